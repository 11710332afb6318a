#include "node/transport.h"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "common/assert.h"
#include "node/link_crypto.h"

namespace gongshe::node {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;
using Frame = std::shared_ptr<const Bytes>;

// One write gathers at most this many queued frames / plaintext bytes (but always one frame), so
// a long queue is sealed a slice at a time.
constexpr size_t kMaxBatchFrames = 64;
constexpr size_t kMaxBatchBytes = 1u << 20;

Status ValidateConfig(const TransportConfig& c) {
  auto invalid = [](const std::string& what) { return Status("INVALID_CONFIG", what); };
  if (c.chain_id.size() > ledger::kMaxChainIdSize) return invalid("chain id is longer than 64 bytes");
  if (c.max_frame_bytes == 0 || c.max_frame_bytes > kMaxFramePlainBytes) {
    return invalid("max_frame_bytes must be in [1, " + std::to_string(kMaxFramePlainBytes) + "]");
  }
  if (c.max_queued_bytes_per_peer < c.max_frame_bytes) return invalid("max_queued_bytes_per_peer < max_frame_bytes");
  if (c.max_pending_handshakes == 0) return invalid("max_pending_handshakes must be positive");
  if (c.backoff_initial.count() <= 0 || c.backoff_max < c.backoff_initial) {
    return invalid("back-off bounds must satisfy 0 < backoff_initial <= backoff_max");
  }
  if (c.handshake_timeout.count() <= 0) return invalid("handshake_timeout must be positive");
  if (c.keepalive_interval.count() <= 0 || c.idle_timeout <= c.keepalive_interval) {
    return invalid("need 0 < keepalive_interval < idle_timeout");
  }
  return Status::Ok();
}

}  // namespace

class Transport::Impl : public std::enable_shared_from_this<Transport::Impl> {
 public:
  Impl(asio::io_context& io, TransportConfig config, TransportHandlers handlers)
      : config_(std::move(config)),
        handlers_(std::move(handlers)),
        strand_(asio::make_strand(io)),
        acceptor_(strand_) {}

  Status Bind();
  uint16_t local_port() const { return local_port_; }

  void SetPeers(std::vector<Peer> peers);
  void Start();
  Status Send(const ledger::PublicKey& to, Bytes frame);
  Status Broadcast(Bytes frame);
  std::vector<ledger::PublicKey> ConnectedPeers() const;
  TransportStats stats() const;
  void Stop();

 private:
  // One TCP connection, from connect/accept to close. Owned by the handlers of its pending
  // operations and by the Impl (pending_ or its PeerState).
  struct Link {
    explicit Link(Strand& strand) : socket(strand), timer(strand) {}
    tcp::socket socket;
    asio::steady_timer timer;  // connect + handshake deadline, then keepalive ticks
    std::optional<tcp::resolver> resolver;
    bool dialed = false;
    bool handshaking = false;  // TCP is connected and the hello exchange started
    bool up = false;           // authenticated
    bool closed = false;
    ledger::PublicKey peer{};  // the dialled key, or the authenticated one
    std::optional<Handshake> handshake;
    std::optional<Session> session;
    std::array<uint8_t, kHelloBytes> hello_in{};
    std::array<uint8_t, kFrameHeaderBytes> header_in{};
    Bytes body_in;
    size_t body_received = 0;
    Clock::time_point last_received{};
    std::deque<Bytes> raw_out;  // already-encoded bytes (hello, auth, keepalives), written first
    bool writing = false;
    std::vector<Bytes> batch;  // being written
    uint64_t batch_frames = 0;
    uint64_t batch_bytes = 0;
  };
  using LinkPtr = std::shared_ptr<Link>;

  struct PeerState {
    explicit PeerState(Strand& strand, Peer p, std::chrono::milliseconds backoff)
        : peer(std::move(p)), backoff(backoff), redial_timer(strand) {}
    Peer peer;
    LinkPtr link;     // the authenticated link, if any
    LinkPtr dialing;  // our outbound attempt in progress, if any
    std::deque<Frame> queue;
    size_t queued_bytes = 0;
    std::chrono::milliseconds backoff;
    asio::steady_timer redial_timer;
    bool redial_pending = false;
  };

  struct Counters {
    std::atomic<uint64_t> links_up{0}, links_established{0}, dials{0}, handshakes_refused{0}, bad_frames{0},
        frames_in{0}, bytes_in{0}, frames_out{0}, bytes_out{0}, frames_dropped{0};
  };

  bool WeDial(const ledger::PublicKey& peer) const { return config_.identity.public_key() < peer; }
  PeerState* Find(const ledger::PublicKey& key);

  void Accept();
  void OnAccepted(const LinkPtr& link);
  void Dial(PeerState& p);
  void ScheduleRedial(PeerState& p);
  void StartHandshake(const LinkPtr& link, Role role);
  void OnHello(const LinkPtr& link);
  void OnAuth(const LinkPtr& link);
  void LinkUp(const LinkPtr& link);
  void Keepalive(const LinkPtr& link);
  void ReadHeader(const LinkPtr& link);
  void ReadBody(const LinkPtr& link);
  void Enqueue(const ledger::PublicKey& to, const Frame& frame);
  void Write(const LinkPtr& link);
  void Refuse(const LinkPtr& link, const Status& why);
  void BadFrame(const LinkPtr& link, const Status& why);
  void Close(const LinkPtr& link);
  void DropQueue(PeerState& p);
  void PublishConnected();
  void CloseAll();

  // Runs a user handler unless stopped; Stop waits for a running one.
  template <typename Fn>
  void Notify(Fn&& fn) {
    std::lock_guard<std::recursive_mutex> lock(handler_mu_);
    if (!stopped_) fn();
  }

  const TransportConfig config_;
  const TransportHandlers handlers_;
  Strand strand_;
  tcp::acceptor acceptor_;
  uint16_t local_port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  mutable std::recursive_mutex handler_mu_;
  Counters counters_;
  mutable std::mutex connected_mu_;
  std::vector<ledger::PublicKey> connected_;  // guarded by connected_mu_

  // Strand-only state.
  std::map<ledger::PublicKey, std::unique_ptr<PeerState>> peers_;
  std::set<LinkPtr> pending_;  // not yet authenticated
  size_t pending_inbound_ = 0;
};

Status Transport::Impl::Bind() {
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(config_.listen_host, ec);
  if (ec) return Status("INVALID_CONFIG", "listen_host '" + config_.listen_host + "' is not an IP address");
  const tcp::endpoint endpoint(address, config_.listen_port);
  auto fail = [&](const char* step) {
    return Status("BIND_FAILED", std::string(step) + " " + config_.listen_host + ":" +
                                     std::to_string(config_.listen_port) + ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("set_option");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  local_port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint");
  return Status::Ok();
}

Transport::Impl::PeerState* Transport::Impl::Find(const ledger::PublicKey& key) {
  auto it = peers_.find(key);
  return it == peers_.end() ? nullptr : it->second.get();
}

void Transport::Impl::SetPeers(std::vector<Peer> peers) {
  asio::post(strand_, [self = shared_from_this(), peers = std::move(peers)]() mutable {
    if (self->stopped_) return;
    std::map<ledger::PublicKey, Peer> next;
    for (Peer& peer : peers) {
      if (peer.key != self->config_.identity.public_key()) next[peer.key] = std::move(peer);
    }
    std::vector<std::unique_ptr<PeerState>> removed;
    for (auto it = self->peers_.begin(); it != self->peers_.end();) {
      if (next.contains(it->first)) {
        ++it;
      } else {
        removed.push_back(std::move(it->second));
        it = self->peers_.erase(it);
      }
    }
    for (const std::unique_ptr<PeerState>& p : removed) {
      self->DropQueue(*p);
      if (p->link) self->Close(p->link);
      if (p->dialing) self->Close(p->dialing);
    }
    for (auto& [key, peer] : next) {
      PeerState* p = self->Find(key);
      if (p == nullptr) {
        self->peers_.emplace(
            key, std::make_unique<PeerState>(self->strand_, std::move(peer), self->config_.backoff_initial));
      } else {
        p->peer = std::move(peer);
      }
    }
    if (!self->started_) return;
    for (auto& [key, p] : self->peers_) self->Dial(*p);
  });
}

void Transport::Impl::Start() {
  GS_ASSERT(!started_.exchange(true));
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_) return;
    self->Accept();
    for (auto& [key, p] : self->peers_) self->Dial(*p);
  });
}

void Transport::Impl::Accept() {
  auto link = std::make_shared<Link>(strand_);
  acceptor_.async_accept(link->socket, [self = shared_from_this(), link](std::error_code ec) {
    if (self->stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or a connection reset before it was accepted: try again shortly
      // rather than spinning.
      auto retry = std::make_shared<asio::steady_timer>(self->strand_, self->config_.backoff_initial);
      retry->async_wait([self, retry](std::error_code) {
        if (!self->stopped_) self->Accept();
      });
      return;
    }
    self->OnAccepted(link);
    self->Accept();
  });
}

void Transport::Impl::OnAccepted(const LinkPtr& link) {
  if (pending_inbound_ >= config_.max_pending_handshakes) {
    counters_.handshakes_refused++;
    std::error_code ignored;
    link->socket.close(ignored);
    Notify([&] {
      if (handlers_.on_link_error) handlers_.on_link_error(Status("TOO_MANY_HANDSHAKES", "inbound connection refused"));
    });
    return;
  }
  pending_.insert(link);
  pending_inbound_++;
  link->timer.expires_after(config_.handshake_timeout);
  link->timer.async_wait([self = shared_from_this(), link](std::error_code ec) {
    if (ec || link->closed || link->up) return;
    self->Refuse(link, Status("HANDSHAKE_TIMEOUT", "no authenticated handshake in time"));
  });
  StartHandshake(link, Role::kResponder);
}

void Transport::Impl::Dial(PeerState& p) {
  if (stopped_ || p.link || p.dialing || p.redial_pending || !WeDial(p.peer.key)) return;
  auto link = std::make_shared<Link>(strand_);
  link->dialed = true;
  link->peer = p.peer.key;
  p.dialing = link;
  pending_.insert(link);
  counters_.dials++;
  link->timer.expires_after(config_.handshake_timeout);
  link->timer.async_wait([self = shared_from_this(), link](std::error_code ec) {
    if (ec || link->closed || link->up) return;
    if (link->handshaking) {
      self->Refuse(link, Status("HANDSHAKE_TIMEOUT", "no authenticated handshake in time"));
    } else {
      self->Close(link);  // the connection attempt itself timed out
    }
  });
  link->resolver.emplace(strand_);
  link->resolver->async_resolve(
      p.peer.host, std::to_string(p.peer.port),
      [self = shared_from_this(), link](std::error_code ec, const tcp::resolver::results_type& endpoints) {
        if (link->closed) return;
        if (ec) return self->Close(link);
        asio::async_connect(link->socket, endpoints, [self, link](std::error_code ec, const tcp::endpoint&) {
          if (link->closed) return;
          if (ec) return self->Close(link);
          self->StartHandshake(link, Role::kInitiator);
        });
      });
}

void Transport::Impl::ScheduleRedial(PeerState& p) {
  if (stopped_ || p.link || p.dialing || p.redial_pending || !WeDial(p.peer.key)) return;
  p.redial_pending = true;
  p.redial_timer.expires_after(p.backoff);
  p.backoff = std::min(p.backoff * 2, config_.backoff_max);
  p.redial_timer.async_wait([self = shared_from_this(), key = p.peer.key](std::error_code ec) {
    if (ec) return;  // cancelled: the peer was removed, linked or we stopped
    PeerState* p = self->Find(key);
    if (p == nullptr) return;
    p->redial_pending = false;
    self->Dial(*p);
  });
}

void Transport::Impl::StartHandshake(const LinkPtr& link, Role role) {
  link->handshaking = true;
  std::error_code ignored;
  link->socket.set_option(tcp::no_delay(true), ignored);
  std::optional<ledger::PublicKey> expected;
  if (role == Role::kInitiator) expected = link->peer;
  link->handshake.emplace(config_.identity, config_.chain_id, role, config_.max_frame_bytes, expected);
  link->raw_out.push_back(link->handshake->hello());
  Write(link);
  asio::async_read(link->socket, asio::buffer(link->hello_in),
                   [self = shared_from_this(), link](std::error_code ec, size_t) {
                     if (link->closed) return;
                     if (ec) return self->Refuse(link, Status("HANDSHAKE_FAILED", "reading hello: " + ec.message()));
                     self->OnHello(link);
                   });
}

void Transport::Impl::OnHello(const LinkPtr& link) {
  Result<Bytes> auth = link->handshake->OnPeerHello(
      link->hello_in, [this](const ledger::PublicKey& key) { return peers_.contains(key); });
  if (!auth.ok()) return Refuse(link, auth.status());
  link->peer = link->handshake->peer();
  link->raw_out.push_back(std::move(auth).value());
  Write(link);
  asio::async_read(link->socket, asio::buffer(link->hello_in.data(), kAuthFrameBytes),
                   [self = shared_from_this(), link](std::error_code ec, size_t) {
                     if (link->closed) return;
                     if (ec) return self->Refuse(link, Status("HANDSHAKE_FAILED", "reading auth: " + ec.message()));
                     self->OnAuth(link);
                   });
}

void Transport::Impl::OnAuth(const LinkPtr& link) {
  Result<Session> session = link->handshake->OnPeerAuth(ByteView(link->hello_in.data(), kAuthFrameBytes));
  if (!session.ok()) return Refuse(link, session.status());
  link->session.emplace(std::move(session).value());
  link->handshake.reset();
  LinkUp(link);
}

void Transport::Impl::LinkUp(const LinkPtr& link) {
  PeerState* p = Find(link->peer);
  if (p == nullptr) {  // removed from the peer list during the handshake
    return Refuse(link, Status("UNKNOWN_PEER", "key " + ToHex(link->peer) + " left the validator set"));
  }
  pending_.erase(link);
  if (!link->dialed) pending_inbound_--;
  if (p->dialing == link) p->dialing = nullptr;
  LinkPtr old = std::exchange(p->link, link);
  link->up = true;
  link->last_received = Clock::now();
  p->backoff = config_.backoff_initial;
  p->redial_pending = false;
  p->redial_timer.cancel();
  counters_.links_up++;
  counters_.links_established++;
  if (old) Close(old);  // reports the old link down before the new one up
  PublishConnected();
  link->timer.cancel();
  Keepalive(link);
  ReadHeader(link);
  Write(link);
  const ledger::PublicKey key = link->peer;
  Notify([&] {
    if (handlers_.on_peer) handlers_.on_peer(key, true);
  });
}

void Transport::Impl::Keepalive(const LinkPtr& link) {
  link->timer.expires_after(config_.keepalive_interval);
  link->timer.async_wait([self = shared_from_this(), link](std::error_code ec) {
    if (ec || link->closed) return;
    if (Clock::now() - link->last_received > self->config_.idle_timeout) {
      return self->BadFrame(link, Status("LINK_IDLE", "nothing received from " + ToHex(link->peer) + " in time"));
    }
    PeerState* p = self->Find(link->peer);
    if (!link->writing && link->raw_out.empty() && p != nullptr && p->queue.empty()) {
      Bytes keepalive;
      link->session->sealer.Seal({}, keepalive);
      link->raw_out.push_back(std::move(keepalive));
      self->Write(link);
    }
    self->Keepalive(link);
  });
}

void Transport::Impl::ReadHeader(const LinkPtr& link) {
  asio::async_read(link->socket, asio::buffer(link->header_in),
                   [self = shared_from_this(), link](std::error_code ec, size_t) {
                     if (link->closed) return;
                     if (ec) return self->Close(link);
                     link->last_received = Clock::now();
                     Result<size_t> sealed = link->session->opener.SealedLength(link->header_in);
                     if (!sealed.ok()) return self->BadFrame(link, sealed.status());
                     link->body_in.resize(*sealed);
                     link->body_received = 0;
                     self->ReadBody(link);
                   });
}

void Transport::Impl::ReadBody(const LinkPtr& link) {
  // read_some, not read: a long frame on a slow link shows progress to the idle check.
  const size_t remaining = link->body_in.size() - link->body_received;
  link->socket.async_read_some(asio::buffer(link->body_in.data() + link->body_received, remaining),
                               [self = shared_from_this(), link](std::error_code ec, size_t n) {
                                 if (link->closed) return;
                                 if (ec) return self->Close(link);
                                 link->last_received = Clock::now();
                                 link->body_received += n;
                                 GS_ASSERT(link->body_received <= link->body_in.size());
                                 if (link->body_received < link->body_in.size()) return self->ReadBody(link);
                                 Result<Bytes> frame = link->session->opener.Open(link->header_in, link->body_in);
                                 link->body_in = Bytes();
                                 if (!frame.ok()) return self->BadFrame(link, frame.status());
                                 if (!frame->empty()) {
                                   self->counters_.frames_in++;
                                   self->counters_.bytes_in += frame->size();
                                   self->Notify([&] {
                                     if (self->handlers_.on_frame)
                                       self->handlers_.on_frame(link->peer, std::move(frame).value());
                                   });
                                 }
                                 if (!link->closed) self->ReadHeader(link);
                               });
}

Status Transport::Impl::Send(const ledger::PublicKey& to, Bytes frame) {
  if (frame.empty()) return Status("INVALID_ARGUMENT", "empty frames are reserved for keepalives");
  if (frame.size() > config_.max_frame_bytes) {
    return Status("FRAME_TOO_LARGE", "frame of " + std::to_string(frame.size()) + " bytes exceeds the limit of " +
                                         std::to_string(config_.max_frame_bytes));
  }
  asio::post(strand_, [self = shared_from_this(), to, f = std::make_shared<const Bytes>(std::move(frame))] {
    if (!self->stopped_) self->Enqueue(to, f);
  });
  return Status::Ok();
}

Status Transport::Impl::Broadcast(Bytes frame) {
  if (frame.empty()) return Status("INVALID_ARGUMENT", "empty frames are reserved for keepalives");
  if (frame.size() > config_.max_frame_bytes) {
    return Status("FRAME_TOO_LARGE", "frame of " + std::to_string(frame.size()) + " bytes exceeds the limit of " +
                                         std::to_string(config_.max_frame_bytes));
  }
  asio::post(strand_, [self = shared_from_this(), f = std::make_shared<const Bytes>(std::move(frame))] {
    if (self->stopped_) return;
    for (auto& [key, p] : self->peers_) self->Enqueue(key, f);
  });
  return Status::Ok();
}

void Transport::Impl::Enqueue(const ledger::PublicKey& to, const Frame& frame) {
  PeerState* p = Find(to);
  if (p == nullptr || !p->link || p->queued_bytes + frame->size() > config_.max_queued_bytes_per_peer) {
    counters_.frames_dropped++;
    return;
  }
  p->queue.push_back(frame);
  p->queued_bytes += frame->size();
  Write(p->link);
}

void Transport::Impl::Write(const LinkPtr& link) {
  if (link->writing || link->closed) return;
  link->batch.clear();
  link->batch_frames = 0;
  link->batch_bytes = 0;
  while (!link->raw_out.empty()) {
    link->batch.push_back(std::move(link->raw_out.front()));
    link->raw_out.pop_front();
  }
  PeerState* p = link->up ? Find(link->peer) : nullptr;
  if (p != nullptr && p->link == link && !p->queue.empty()) {
    Bytes sealed;
    while (!p->queue.empty() && link->batch_frames < kMaxBatchFrames &&
           (link->batch_frames == 0 || link->batch_bytes + p->queue.front()->size() <= kMaxBatchBytes)) {
      const Frame frame = std::move(p->queue.front());
      p->queue.pop_front();
      p->queued_bytes -= frame->size();
      link->session->sealer.Seal(*frame, sealed);
      link->batch_frames++;
      link->batch_bytes += frame->size();
    }
    link->batch.push_back(std::move(sealed));
  }
  if (link->batch.empty()) return;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(link->batch.size());
  for (const Bytes& b : link->batch) buffers.push_back(asio::buffer(b));
  link->writing = true;
  asio::async_write(link->socket, buffers, [self = shared_from_this(), link](std::error_code ec, size_t) {
    link->writing = false;
    if (link->closed) return;
    if (ec) return self->Close(link);
    self->counters_.frames_out += link->batch_frames;
    self->counters_.bytes_out += link->batch_bytes;
    link->batch_frames = 0;
    link->batch_bytes = 0;
    self->Write(link);
  });
}

void Transport::Impl::Refuse(const LinkPtr& link, const Status& why) {
  if (link->closed) return;
  counters_.handshakes_refused++;
  Close(link);
  Notify([&] {
    if (handlers_.on_link_error) handlers_.on_link_error(why);
  });
}

void Transport::Impl::BadFrame(const LinkPtr& link, const Status& why) {
  if (link->closed) return;
  counters_.bad_frames++;
  Close(link);
  Notify([&] {
    if (handlers_.on_link_error) handlers_.on_link_error(why);
  });
}

void Transport::Impl::Close(const LinkPtr& link) {
  if (link->closed) return;
  link->closed = true;
  std::error_code ignored;
  link->socket.close(ignored);
  link->timer.cancel();
  if (link->resolver) link->resolver->cancel();
  counters_.frames_dropped += link->batch_frames;  // in flight: the write will not complete
  link->batch_frames = 0;
  link->session.reset();
  link->handshake.reset();
  if (pending_.erase(link) > 0 && !link->dialed) pending_inbound_--;
  PeerState* p = Find(link->peer);
  if (link->up) {
    counters_.links_up--;
    const bool current = p != nullptr && p->link == link;
    if (current) {
      p->link = nullptr;
      DropQueue(*p);
      PublishConnected();
    }
    const ledger::PublicKey key = link->peer;
    Notify([&] {
      if (handlers_.on_peer) handlers_.on_peer(key, false);
    });
    if (current) ScheduleRedial(*p);
  } else if (link->dialed && p != nullptr && p->dialing == link) {
    p->dialing = nullptr;
    ScheduleRedial(*p);
  }
}

void Transport::Impl::DropQueue(PeerState& p) {
  counters_.frames_dropped += p.queue.size();
  p.queue.clear();
  p.queued_bytes = 0;
}

void Transport::Impl::PublishConnected() {
  std::vector<ledger::PublicKey> connected;
  for (const auto& [key, p] : peers_) {
    if (p->link) connected.push_back(key);
  }
  std::lock_guard<std::mutex> lock(connected_mu_);
  connected_ = std::move(connected);
}

std::vector<ledger::PublicKey> Transport::Impl::ConnectedPeers() const {
  std::lock_guard<std::mutex> lock(connected_mu_);
  return connected_;
}

TransportStats Transport::Impl::stats() const {
  TransportStats s;
  s.links_up = counters_.links_up;
  s.links_established = counters_.links_established;
  s.dials = counters_.dials;
  s.handshakes_refused = counters_.handshakes_refused;
  s.bad_frames = counters_.bad_frames;
  s.frames_in = counters_.frames_in;
  s.bytes_in = counters_.bytes_in;
  s.frames_out = counters_.frames_out;
  s.bytes_out = counters_.bytes_out;
  s.frames_dropped = counters_.frames_dropped;
  return s;
}

void Transport::Impl::Stop() {
  {
    std::lock_guard<std::recursive_mutex> lock(handler_mu_);
    if (stopped_.exchange(true)) return;
  }
  asio::post(strand_, [self = shared_from_this()] { self->CloseAll(); });
}

void Transport::Impl::CloseAll() {
  GS_ASSERT(stopped_);
  std::error_code ignored;
  acceptor_.close(ignored);
  std::vector<LinkPtr> links(pending_.begin(), pending_.end());
  for (auto& [key, p] : peers_) {
    p->redial_timer.cancel();
    DropQueue(*p);
    if (p->link) links.push_back(p->link);
  }
  for (const LinkPtr& link : links) Close(link);
  peers_.clear();
  GS_ASSERT(pending_.empty() && pending_inbound_ == 0);
  PublishConnected();
}

Result<std::unique_ptr<Transport>> Transport::Create(asio::io_context& io, TransportConfig config,
                                                     TransportHandlers handlers) {
  GS_RETURN_IF_ERROR(ValidateConfig(config));
  ledger::InitCrypto();
  auto impl = std::make_shared<Impl>(io, std::move(config), std::move(handlers));
  GS_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() { impl_->Stop(); }
uint16_t Transport::local_port() const { return impl_->local_port(); }
void Transport::SetPeers(std::vector<Peer> peers) { impl_->SetPeers(std::move(peers)); }
void Transport::Start() { impl_->Start(); }
Status Transport::Send(const ledger::PublicKey& to, Bytes frame) { return impl_->Send(to, std::move(frame)); }
Status Transport::Broadcast(Bytes frame) { return impl_->Broadcast(std::move(frame)); }
std::vector<ledger::PublicKey> Transport::ConnectedPeers() const { return impl_->ConnectedPeers(); }
TransportStats Transport::stats() const { return impl_->stats(); }
void Transport::Stop() { impl_->Stop(); }

}  // namespace gongshe::node
