#pragma once
// The node's HTTP/JSON API (endpoints and error codes: node/API.md): submit transactions, wait for
// their commit, read accounts, blocks, transactions, proofs and the node's status, and Prometheus
// metrics at /metrics. Bodies are the messages of gongshe/v1/api.proto in the protobuf JSON
// mapping. It serves a NodeService and holds no state of its own beyond its counters.
//
// Outside input is bounded and checked: request bodies (413 past max_body_bytes), URLs (hex ids
// and keys, heights and wait times are parsed strictly), JSON (parsed by protobuf against the
// request message: unknown fields and wrong types are refused). Any bad input gets a 4xx with a
// JSON error body and reaches nothing but the parser. Bound to loopback unless told otherwise.
//
// Threads: a fixed pool of `workers` serves connections; at most `max_queued_connections` wait
// for a worker, beyond that the accepting thread waits (the kernel's backlog absorbs the rest).
// Waiting for a commit occupies a worker, so at most `max_waiting` requests wait at once; more are
// answered 503 BUSY at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "node/service.h"

namespace gongshe::node {

inline constexpr uint16_t kDefaultApiPort = 26657;
// Transactions in one POST /v1/txs/batch.
inline constexpr size_t kMaxBatchTxs = 1000;

struct HttpApiOptions {
  std::string host = "127.0.0.1";
  uint16_t port = kDefaultApiPort;  // 0: any free port (see HttpApi::port)
  size_t workers = 8;
  size_t max_queued_connections = 64;
  size_t max_waiting = 4;                       // < workers, so waits never take every worker
  std::chrono::milliseconds max_wait{30'000};   // the largest wait_ms a request may ask for
  size_t max_body_bytes = 4 << 20;              // a batch of small transactions, or ~190 of the largest
  std::chrono::milliseconds io_timeout{5'000};  // reading a request, writing an answer
  std::chrono::milliseconds keep_alive{2'000};  // an idle connection keeps its worker this long
  size_t keep_alive_max_requests = 10'000;      // requests on one connection before it is closed
};

class HttpApi {
 public:
  // `service` must outlive the HttpApi.
  HttpApi(NodeService& service, HttpApiOptions options);
  ~HttpApi();  // Stop()s.
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds host:port and serves on background threads. API_BIND when the address cannot be bound
  // (in use, not local, malformed). Once only.
  Status Start();

  // The port bound by Start (the chosen one when options.port was 0).
  uint16_t port() const { return port_; }

  // Stops accepting, lets running requests end (a wait for a commit ends early, as not found),
  // and joins every thread: within about io_timeout, or keep_alive for an idle kept-alive
  // connection. Idempotent; also fine when Start failed or never ran.
  void Stop();

 private:
  class Handlers;
  class Server;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

}  // namespace gongshe::node
