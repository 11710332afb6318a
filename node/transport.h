#pragma once
// Transport: encrypted, mutually authenticated TCP links between the validators, over Asio.
//
// Every link runs the "gongshe/link/v1" protocol of node/link_crypto.h: a handshake that binds
// fresh X25519 keys to the two validators' Ed25519 keys, then an XChaCha20-Poly1305 stream of
// length-prefixed frames. A peer whose key is not in the peer list (or is our own, or on another
// chain or protocol version) is refused and counted; a frame that is oversize, malformed or does
// not authenticate closes its link and is counted; other links are not affected.
//
// One link per pair: the side with the lexicographically lower public key dials the other,
// retrying with exponential back-off while the peer is unreachable. Either side accepts, and a
// newer authenticated link from a peer replaces the older one (a restarted peer). An idle link
// carries a keepalive every keepalive_interval; a link that receives nothing for idle_timeout is
// closed (a peer that vanished without closing TCP), and redialled if we are the dialer.
//
// Frames are opaque bytes. Frames to one peer arrive in the order they were sent over one link;
// nothing is retransmitted: a frame sent while the peer is not connected, or when its send queue
// is full, or in flight when a link breaks, is lost (and counted when dropped here). Callers that
// need reliability (consensus) already tolerate loss.
//
// Threading: all work runs on a strand of the given io_context, which any number of threads may
// run. Handlers are called on that strand, one at a time. Send, Broadcast, SetPeers,
// ConnectedPeers, stats and Stop may be called from any thread, including from inside a handler.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "ledger/crypto.h"

namespace asio {
class io_context;
}

namespace gongshe::node {

struct TransportConfig {
  TransportConfig(ledger::KeyPair identity_in, std::string chain_id_in)
      : identity(std::move(identity_in)), chain_id(std::move(chain_id_in)) {}

  ledger::KeyPair identity;                      // this validator's key; peers see its public part
  std::string chain_id;                          // at most ledger::kMaxChainIdSize bytes
  std::string listen_host = "127.0.0.1";         // an IP address literal
  uint16_t listen_port = 0;                      // 0: any free port (see Transport::local_port)
  size_t max_frame_bytes = 32u << 20;            // largest frame sent or accepted, at most kMaxFramePlainBytes
  size_t max_queued_bytes_per_peer = 64u << 20;  // at least max_frame_bytes
  size_t max_pending_handshakes = 64;            // inbound connections not yet authenticated; more are refused
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
  std::chrono::milliseconds handshake_timeout{5000};  // from dialling / accepting to authenticated
  std::chrono::milliseconds keepalive_interval{1000};
  std::chrono::milliseconds idle_timeout{10000};  // greater than keepalive_interval
};

// A validator we keep a link to. host is an IP address or a name to resolve; it is only used when
// we are the dialer (our key is lower).
struct Peer {
  ledger::PublicKey key{};
  std::string host;
  uint16_t port = 0;
};

// Counters since Create; monotonic except links_up.
struct TransportStats {
  uint64_t links_up = 0;            // authenticated links now
  uint64_t links_established = 0;   // authenticated links ever
  uint64_t dials = 0;               // outbound connection attempts
  uint64_t handshakes_refused = 0;  // handshakes that failed: unknown key, bad hello or auth, timeout
  uint64_t bad_frames = 0;          // links closed for an oversize, malformed or unauthentic frame
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;  // frame payload bytes delivered
  uint64_t frames_out = 0;
  uint64_t bytes_out = 0;       // frame payload bytes written
  uint64_t frames_dropped = 0;  // to an unknown or disconnected peer, a full queue, or a broken link
};

struct TransportHandlers {
  // A frame from an authenticated peer. Never called for keepalives.
  std::function<void(const ledger::PublicKey& from, Bytes frame)> on_frame;
  // Called with true each time a link to `peer` is authenticated, and with false when it is lost.
  // The calls for one peer alternate (a replaced link reports false, then true).
  std::function<void(const ledger::PublicKey& peer, bool up)> on_peer;
  // Why a handshake was refused or a link closed for a bad frame (a Status code of
  // node/link_crypto.h, or HANDSHAKE_FAILED, HANDSHAKE_TIMEOUT, LINK_IDLE, TOO_MANY_HANDSHAKES), for
  // logs; called once the link is closed. Any handler may be empty.
  std::function<void(const Status& why)> on_link_error;
};

class Transport {
 public:
  // Validates `config` (INVALID_CONFIG) and binds the listening socket (BIND_FAILED); nothing runs
  // until Start. The transport must be destroyed before `io`.
  static Result<std::unique_ptr<Transport>> Create(asio::io_context& io, TransportConfig config,
                                                   TransportHandlers handlers);

  // Stops (see Stop). Pending Asio operations keep internal state alive until they complete or
  // `io` is destroyed; no handler is called after Stop returned.
  ~Transport();

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The bound listening port (useful with listen_port = 0).
  uint16_t local_port() const;

  // Replaces the peer list (the validator set, our own key excluded or ignored). Links to peers no
  // longer listed are closed; peers new to the list are dialled if we are the dialer. May be called
  // before or after Start.
  void SetPeers(std::vector<Peer> peers);

  // Starts accepting and dialling. Called once.
  void Start();

  // Queues `frame` for `to`. INVALID_ARGUMENT for an empty frame (empty frames are keepalives),
  // FRAME_TOO_LARGE above max_frame_bytes; otherwise OK, which promises nothing about delivery.
  Status Send(const ledger::PublicKey& to, Bytes frame);
  // Send to every listed peer.
  Status Broadcast(Bytes frame);

  // Peers with an authenticated link now, in key order.
  std::vector<ledger::PublicKey> ConnectedPeers() const;
  TransportStats stats() const;

  // Closes every link and the listener and cancels all timers. Idempotent. When it returns, no
  // handler runs any more (a handler running on another thread is waited for), and Send and
  // SetPeers do nothing. The sockets are closed on the strand soon after, so the port is free
  // again once the io_context has run that step.
  void Stop();

 private:
  class Impl;
  explicit Transport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace gongshe::node
