#include "node/transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "node/link_crypto.h"

namespace gongshe::node {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using ledger::KeyPair;
using ledger::PublicKey;

constexpr std::string_view kChain = "gongshe-transport-test";
constexpr auto kDeadline = 15s;

// Polls `done` until it holds or the deadline passes.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

KeyPair Key(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return KeyPair::FromSeed(seed);
}

// Keys in ascending public-key order, so tests know who dials whom (lower dials higher).
std::vector<KeyPair> SortedKeys(size_t n) {
  std::vector<KeyPair> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(Key(static_cast<uint8_t>(i + 1)));
  std::sort(keys.begin(), keys.end(),
            [](const KeyPair& a, const KeyPair& b) { return a.public_key() < b.public_key(); });
  return keys;
}

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// What one transport's handlers saw; shared with the handlers, read from the test thread.
struct Inbox {
  mutable std::mutex mu;
  std::vector<std::pair<PublicKey, Bytes>> frames;
  std::vector<std::pair<PublicKey, bool>> peer_events;
  std::vector<std::string> errors;

  size_t FrameCount() const {
    std::lock_guard<std::mutex> lock(mu);
    return frames.size();
  }
  std::vector<Bytes> FramesFrom(const PublicKey& from) const {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Bytes> out;
    for (const auto& [k, f] : frames) {
      if (k == from) out.push_back(f);
    }
    return out;
  }
  bool HasError(const std::string& code) const {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(errors.begin(), errors.end(), code) != errors.end();
  }
  std::vector<bool> EventsFor(const PublicKey& peer) const {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<bool> out;
    for (const auto& [k, up] : peer_events) {
      if (k == peer) out.push_back(up);
    }
    return out;
  }
};

// A bare TCP client driven by its own io_context on the test thread, every wait bounded.
class RawPeer {
 public:
  bool Connect(uint16_t port) {
    std::error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    return !ec;
  }

  bool Write(ByteView bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  std::optional<Bytes> Read(size_t n, std::chrono::milliseconds timeout = kDeadline) {
    Bytes buf(n);
    std::optional<std::error_code> result;
    asio::async_read(socket_, asio::buffer(buf), [&](std::error_code ec, size_t) { result = ec; });
    if (!RunUntil(result, timeout) || *result) return std::nullopt;
    return buf;
  }

  // True once the other side has closed the connection (reading and discarding what it sent).
  bool WaitClosed(std::chrono::milliseconds timeout = kDeadline) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<uint8_t> sink(1 << 16);
    for (;;) {
      std::optional<std::error_code> result;
      socket_.async_read_some(asio::buffer(sink), [&](std::error_code ec, size_t) { result = ec; });
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!RunUntil(result, std::max(left, 1ms))) return false;
      if (*result) return true;
    }
  }

  // Runs the initiator side of the link handshake as `me` against the transport keyed `server`.
  std::optional<Session> Handshake(const KeyPair& me, const PublicKey& server, size_t max_frame_bytes = 32u << 20) {
    node::Handshake hs(me, std::string(kChain), Role::kInitiator, max_frame_bytes, server);
    if (!Write(hs.hello())) return std::nullopt;
    std::optional<Bytes> hello = Read(kHelloBytes);
    if (!hello) return std::nullopt;
    Result<Bytes> auth = hs.OnPeerHello(*hello, [&](const PublicKey& k) { return k == server; });
    if (!auth.ok() || !Write(*auth)) return std::nullopt;
    std::optional<Bytes> peer_auth = Read(kAuthFrameBytes);
    if (!peer_auth) return std::nullopt;
    Result<Session> session = hs.OnPeerAuth(*peer_auth);
    if (!session.ok()) return std::nullopt;
    return std::move(session).value();
  }

  // Reads the next frame of `session`.
  std::optional<Bytes> ReadFrame(Session& session, std::chrono::milliseconds timeout = kDeadline) {
    std::optional<Bytes> header = Read(kFrameHeaderBytes, timeout);
    if (!header) return std::nullopt;
    const FrameHeader h(header->data(), kFrameHeaderBytes);
    Result<size_t> length = session.opener.SealedLength(h);
    if (!length.ok()) return std::nullopt;
    std::optional<Bytes> body = Read(*length, timeout);
    if (!body) return std::nullopt;
    Result<Bytes> frame = session.opener.Open(h, *body);
    if (!frame.ok()) return std::nullopt;
    return std::move(frame).value();
  }

 private:
  bool RunUntil(const std::optional<std::error_code>& result, std::chrono::milliseconds timeout) {
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!result.has_value() && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(deadline - std::chrono::steady_clock::now());
    if (result.has_value()) return true;
    socket_.cancel();
    io_.restart();
    io_.run();  // the cancelled handler runs and writes `result`
    return false;
  }

  asio::io_context io_;
  tcp::socket socket_{io_};
};

class TransportTest : public ::testing::Test {
 protected:
  TransportTest() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

  ~TransportTest() override {
    transports_.clear();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Creates (not starts) a transport for `key`, recording into a new inbox at `index`.
  // A failure is a test failure unless `may_fail` (then nullptr is returned).
  Transport* Make(size_t index, const KeyPair& key, uint16_t port = 0,
                  const std::function<void(TransportConfig&)>& tweak = nullptr, bool may_fail = false) {
    TransportConfig config(key, std::string(kChain));
    config.listen_port = port;
    if (tweak) tweak(config);
    auto inbox = std::make_shared<Inbox>();
    TransportHandlers handlers;
    handlers.on_frame = [inbox](const PublicKey& from, Bytes frame) {
      std::lock_guard<std::mutex> lock(inbox->mu);
      inbox->frames.emplace_back(from, std::move(frame));
    };
    handlers.on_peer = [inbox](const PublicKey& peer, bool up) {
      std::lock_guard<std::mutex> lock(inbox->mu);
      inbox->peer_events.emplace_back(peer, up);
    };
    handlers.on_link_error = [inbox](const Status& why) {
      std::lock_guard<std::mutex> lock(inbox->mu);
      inbox->errors.push_back(why.code());
    };
    Result<std::unique_ptr<Transport>> t = Transport::Create(io_, std::move(config), std::move(handlers));
    EXPECT_TRUE(t.ok() || may_fail) << t.status().ToString();
    if (!t.ok()) return nullptr;
    if (transports_.size() <= index) {
      transports_.resize(index + 1);
      inboxes_.resize(index + 1);
    }
    transports_[index] = std::move(t).value();
    inboxes_[index] = inbox;
    return transports_[index].get();
  }

  std::vector<Peer> PeersOf(const std::vector<KeyPair>& keys) const {
    std::vector<Peer> peers;
    for (size_t i = 0; i < keys.size(); ++i) peers.push_back({keys[i].public_key(), "127.0.0.1", ports_.at(i)});
    return peers;
  }

  // n validators, all listing each other, started; waits until every pair is linked.
  void StartNetwork(size_t n, const std::function<void(TransportConfig&)>& tweak = nullptr) {
    keys_ = SortedKeys(n);
    ports_.clear();
    for (size_t i = 0; i < n; ++i) {
      ASSERT_NE(Make(i, keys_[i], 0, tweak), nullptr);
      ports_.push_back(transports_[i]->local_port());
    }
    for (size_t i = 0; i < n; ++i) transports_[i]->SetPeers(PeersOf(keys_));
    for (size_t i = 0; i < n; ++i) transports_[i]->Start();
    ASSERT_TRUE(AllLinked(n));
  }

  bool AllLinked(size_t n) {
    return WaitFor([&] {
      for (size_t i = 0; i < n; ++i) {
        if (!transports_[i] || transports_[i]->ConnectedPeers().size() != n - 1) return false;
      }
      return true;
    });
  }

  // Every validator sends `count` numbered frames to every other; checks all arrive, in order.
  void ExchangeAll(size_t n, size_t count, const std::string& tag) {
    std::vector<size_t> before(n);
    for (size_t j = 0; j < n; ++j) before[j] = inboxes_[j]->FrameCount();
    for (size_t k = 0; k < count; ++k) {
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) {
          if (i == j) continue;
          ASSERT_TRUE(transports_[i]
                          ->Send(keys_[j].public_key(), Text(tag + " " + std::to_string(i) + ">" + std::to_string(j) +
                                                             " #" + std::to_string(k)))
                          .ok());
        }
      }
    }
    for (size_t j = 0; j < n; ++j) {
      ASSERT_TRUE(WaitFor([&] { return inboxes_[j]->FrameCount() >= before[j] + (n - 1) * count; }))
          << "validator " << j << " has " << inboxes_[j]->FrameCount() - before[j];
      for (size_t i = 0; i < n; ++i) {
        if (i == j) continue;
        std::vector<Bytes> got;
        for (const Bytes& f : inboxes_[j]->FramesFrom(keys_[i].public_key())) {
          if (f.size() > tag.size() && std::equal(tag.begin(), tag.end(), f.begin())) got.push_back(f);
        }
        ASSERT_EQ(got.size(), count) << i << " -> " << j;
        for (size_t k = 0; k < count; ++k) {
          EXPECT_EQ(got[k], Text(tag + " " + std::to_string(i) + ">" + std::to_string(j) + " #" + std::to_string(k)));
        }
      }
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<KeyPair> keys_;
  std::vector<uint16_t> ports_;
  std::vector<std::shared_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<Transport>> transports_;  // destroyed before io_
};

TEST_F(TransportTest, AllPairsLinkAndFramesArriveInOrderBothWays) {
  constexpr size_t n = 4;
  StartNetwork(n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(transports_[i]->stats().links_up, n - 1);
    EXPECT_EQ(transports_[i]->stats().handshakes_refused, 0u);
    std::vector<PublicKey> expected;
    for (size_t j = 0; j < n; ++j) {
      if (j != i) expected.push_back(keys_[j].public_key());
    }
    EXPECT_EQ(transports_[i]->ConnectedPeers(), expected);
    // One link per pair: only the lower key dialled.
    EXPECT_EQ(transports_[i]->stats().dials, n - 1 - i);
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      EXPECT_EQ(inboxes_[i]->EventsFor(keys_[j].public_key()), std::vector<bool>{true});
    }
  }
  ExchangeAll(n, 300, "order");
  const TransportStats s = transports_[0]->stats();
  EXPECT_EQ(s.frames_out, (n - 1) * 300);
  EXPECT_EQ(s.frames_in, (n - 1) * 300);
  EXPECT_EQ(s.frames_dropped, 0u);
  EXPECT_EQ(s.bad_frames, 0u);
}

TEST_F(TransportTest, BroadcastReachesEveryPeer) {
  constexpr size_t n = 4;
  StartNetwork(n);
  ASSERT_TRUE(transports_[2]->Broadcast(Text("to all")).ok());
  for (size_t j = 0; j < n; ++j) {
    if (j == 2) continue;
    ASSERT_TRUE(WaitFor([&] { return inboxes_[j]->FrameCount() == 1; }));
    EXPECT_EQ(inboxes_[j]->FramesFrom(keys_[2].public_key()), std::vector<Bytes>{Text("to all")});
  }
  EXPECT_EQ(inboxes_[2]->FrameCount(), 0u);
}

TEST_F(TransportTest, LargeFrameArrivesIntact) {
  StartNetwork(2);
  Bytes big(8u << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  ASSERT_TRUE(transports_[0]->Send(keys_[1].public_key(), big).ok());
  ASSERT_TRUE(transports_[1]->Send(keys_[0].public_key(), big).ok());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->FrameCount() == 1 && inboxes_[0]->FrameCount() == 1; }));
  EXPECT_TRUE(inboxes_[1]->FramesFrom(keys_[0].public_key()).at(0) == big);
  EXPECT_TRUE(inboxes_[0]->FramesFrom(keys_[1].public_key()).at(0) == big);
  EXPECT_EQ(transports_[0]->stats().bytes_in, big.size());
}

TEST_F(TransportTest, SendRejectsEmptyAndOversizeFrames) {
  StartNetwork(2, [](TransportConfig& c) { c.max_frame_bytes = 1000; });
  EXPECT_EQ(transports_[0]->Send(keys_[1].public_key(), {}).code(), "INVALID_ARGUMENT");
  EXPECT_EQ(transports_[0]->Send(keys_[1].public_key(), Bytes(1001)).code(), "FRAME_TOO_LARGE");
  EXPECT_EQ(transports_[0]->Broadcast(Bytes(1001)).code(), "FRAME_TOO_LARGE");
  ASSERT_TRUE(transports_[0]->Send(keys_[1].public_key(), Bytes(1000, 7)).ok());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->FrameCount() == 1; }));
}

TEST_F(TransportTest, FramesToUnknownPeersAreDroppedAndCounted) {
  StartNetwork(2);
  ASSERT_TRUE(transports_[0]->Send(Key(99).public_key(), Text("nobody")).ok());
  ASSERT_TRUE(WaitFor([&] { return transports_[0]->stats().frames_dropped == 1; }));
}

TEST_F(TransportTest, KeyOutsideTheValidatorSetCannotExchangeFrames) {
  // Five keys; the lowest is an outsider that lists the four validators, so it dials each of
  // them. The validators do not list it.
  const std::vector<KeyPair> all = SortedKeys(5);
  keys_.assign(all.begin() + 1, all.end());
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_NE(Make(i, keys_[i]), nullptr);
    ports_.push_back(transports_[i]->local_port());
  }
  ASSERT_NE(Make(4, all[0]), nullptr);
  Transport* outsider = transports_[4].get();
  for (size_t i = 0; i < 4; ++i) {
    transports_[i]->SetPeers(PeersOf(keys_));
    transports_[i]->Start();
  }
  outsider->SetPeers(PeersOf(keys_));
  outsider->Start();
  ASSERT_TRUE(AllLinked(4));
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(WaitFor([&] { return transports_[i]->stats().handshakes_refused >= 1; })) << i;
    EXPECT_TRUE(inboxes_[i]->HasError("UNKNOWN_PEER"));
    EXPECT_TRUE(inboxes_[i]->EventsFor(all[0].public_key()).empty());
  }
  EXPECT_TRUE(outsider->ConnectedPeers().empty());
  EXPECT_EQ(outsider->stats().links_established, 0u);
  EXPECT_GE(outsider->stats().dials, 4u);
  for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(outsider->Send(keys_[i].public_key(), Text("let me in")).ok());
  ASSERT_TRUE(outsider->Broadcast(Text("let me in")).ok());
  ASSERT_TRUE(WaitFor([&] { return outsider->stats().frames_dropped == 8; }));
  ExchangeAll(4, 20, "after outsider");
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(inboxes_[i]->FramesFrom(all[0].public_key()).empty());
}

TEST_F(TransportTest, WrongChainIsRefused) {
  StartNetwork(2);
  // A validator's own key, but configured for another chain.
  TransportConfig config(keys_[0], "another-chain");
  Result<std::unique_ptr<Transport>> other = Transport::Create(io_, config, {});
  ASSERT_TRUE(other.ok());
  const uint64_t refused = transports_[1]->stats().handshakes_refused;
  (*other)->SetPeers(PeersOf(keys_));
  (*other)->Start();
  ASSERT_TRUE(WaitFor([&] { return transports_[1]->stats().handshakes_refused > refused; }));
  EXPECT_TRUE(inboxes_[1]->HasError("WRONG_CHAIN"));
  EXPECT_TRUE((*other)->ConnectedPeers().empty());
  (*other)->Stop();
}

TEST_F(TransportTest, GarbageHelloIsDisconnectedAndOthersKeepExchanging) {
  StartNetwork(4);
  RawPeer raw;
  ASSERT_TRUE(raw.Connect(ports_[0]));
  Bytes garbage(kHelloBytes);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 7 + 1);
  ASSERT_TRUE(raw.Write(garbage));
  EXPECT_TRUE(raw.WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->HasError("BAD_HELLO"); }));
  EXPECT_EQ(transports_[0]->stats().handshakes_refused, 1u);
  ExchangeAll(4, 20, "after garbage");
  EXPECT_EQ(transports_[0]->stats().links_established, 3u);
}

TEST_F(TransportTest, SilentConnectionTimesOut) {
  StartNetwork(2, [](TransportConfig& c) { c.handshake_timeout = 500ms; });
  RawPeer raw;
  ASSERT_TRUE(raw.Connect(ports_[0]));
  EXPECT_TRUE(raw.WaitClosed(5s));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->HasError("HANDSHAKE_TIMEOUT"); }));
  ExchangeAll(2, 5, "after timeout");
}

TEST_F(TransportTest, PendingHandshakesAreBounded) {
  StartNetwork(2, [](TransportConfig& c) { c.max_pending_handshakes = 2; });
  RawPeer r1, r2, r3;
  ASSERT_TRUE(r1.Connect(ports_[1]));
  ASSERT_TRUE(r2.Connect(ports_[1]));
  ASSERT_TRUE(r1.Read(kHelloBytes).has_value());  // both are being served
  ASSERT_TRUE(r2.Read(kHelloBytes).has_value());
  ASSERT_TRUE(r3.Connect(ports_[1]));
  EXPECT_TRUE(r3.WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[1]->HasError("TOO_MANY_HANDSHAKES"); }));
  ExchangeAll(2, 5, "while pending");
}

// Validators 0..3 plus a raw test peer whose key validator 0 lists.
class AuthenticatedRawPeerTest : public TransportTest {
 protected:
  void SetUp() override {
    StartNetwork(4, [](TransportConfig& c) { c.max_frame_bytes = 1 << 20; });
    std::vector<Peer> peers = PeersOf(keys_);
    peers.push_back({raw_key_.public_key(), "127.0.0.1", ClosedPort()});
    transports_[0]->SetPeers(peers);
  }

  static uint16_t ClosedPort() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
  }

  std::optional<Session> Link(RawPeer& raw) {
    if (!raw.Connect(ports_[0])) return std::nullopt;
    // Validator 0 learns the key asynchronously (SetPeers): callers retry on failure.
    return raw.Handshake(raw_key_, keys_[0].public_key(), 1 << 20);
  }

  const KeyPair raw_key_ = Key(77);
};

TEST_F(AuthenticatedRawPeerTest, OversizeLengthClosesTheLinkBeforeTheBody) {
  std::optional<RawPeer> raw;
  std::optional<Session> session;
  ASSERT_TRUE(WaitFor([&] { return (session = Link(raw.emplace())).has_value(); }));
  // A good frame first: the link works.
  Bytes frame;
  session->sealer.Seal(Text("hello from raw"), frame);
  ASSERT_TRUE(raw->Write(frame));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->FramesFrom(raw_key_.public_key()).size() == 1; }));
  // Then announce one byte more than the limit; the body never comes.
  const uint32_t sealed = (1u << 20) + kSealOverheadBytes + 1;
  const Bytes header = {static_cast<uint8_t>(sealed >> 24), static_cast<uint8_t>(sealed >> 16),
                        static_cast<uint8_t>(sealed >> 8), static_cast<uint8_t>(sealed)};
  ASSERT_TRUE(raw->Write(header));
  EXPECT_TRUE(raw->WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->HasError("FRAME_TOO_LARGE"); }));
  EXPECT_EQ(transports_[0]->stats().bad_frames, 1u);
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->EventsFor(raw_key_.public_key()).size() == 2; }));
  EXPECT_EQ(inboxes_[0]->EventsFor(raw_key_.public_key()), (std::vector<bool>{true, false}));
  ExchangeAll(4, 20, "after oversize");
}

TEST_F(AuthenticatedRawPeerTest, UnauthenticFrameClosesTheLink) {
  std::optional<RawPeer> raw;
  std::optional<Session> session;
  ASSERT_TRUE(WaitFor([&] { return (session = Link(raw.emplace())).has_value(); }));
  Bytes frame;
  session->sealer.Seal(Text("tampered"), frame);
  frame[kFrameHeaderBytes + 2] ^= 0x80;
  ASSERT_TRUE(raw->Write(frame));
  EXPECT_TRUE(raw->WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->HasError("BAD_FRAME"); }));
  EXPECT_TRUE(inboxes_[0]->FramesFrom(raw_key_.public_key()).empty());
  ExchangeAll(4, 20, "after tamper");
}

TEST_F(AuthenticatedRawPeerTest, NewerLinkReplacesTheOlder) {
  std::optional<RawPeer> first;
  RawPeer second;
  std::optional<Session> s1, s2;
  ASSERT_TRUE(WaitFor([&] { return (s1 = Link(first.emplace())).has_value(); }));
  ASSERT_TRUE((s2 = Link(second)).has_value());
  EXPECT_TRUE(first->WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->EventsFor(raw_key_.public_key()).size() == 3; }));
  EXPECT_EQ(inboxes_[0]->EventsFor(raw_key_.public_key()), (std::vector<bool>{true, false, true}));
  // Frames now flow over the second link.
  ASSERT_TRUE(transports_[0]->Send(raw_key_.public_key(), Text("to the new link")).ok());
  std::optional<Bytes> got;
  ASSERT_TRUE(WaitFor([&] {
    got = second.ReadFrame(*s2, 2s);
    return got.has_value() && !got->empty();  // skip keepalives
  }));
  EXPECT_EQ(*got, Text("to the new link"));
}

TEST_F(TransportTest, IdleLinkGetsKeepalivesAndIsClosedWhenThePeerFallsSilent) {
  const KeyPair raw_key = Key(77);
  StartNetwork(2, [](TransportConfig& c) {
    c.keepalive_interval = 50ms;
    c.idle_timeout = 1000ms;
  });
  std::vector<Peer> peers = PeersOf(keys_);
  peers.push_back({raw_key.public_key(), "127.0.0.1", 1});
  transports_[0]->SetPeers(peers);
  std::optional<RawPeer> raw;
  std::optional<Session> session;
  ASSERT_TRUE(WaitFor([&] {
    return raw.emplace().Connect(ports_[0]) && (session = raw->Handshake(raw_key, keys_[0].public_key())).has_value();
  }));
  std::optional<Bytes> keepalive = raw->ReadFrame(*session, 2s);
  ASSERT_TRUE(keepalive.has_value());
  EXPECT_TRUE(keepalive->empty());
  EXPECT_TRUE(raw->WaitClosed(5s));
  ASSERT_TRUE(WaitFor([&] { return inboxes_[0]->HasError("LINK_IDLE"); }));
  // The validators' own link stays up: keepalives flow both ways.
  EXPECT_EQ(transports_[0]->ConnectedPeers(), std::vector<PublicKey>{keys_[1].public_key()});
  EXPECT_EQ(transports_[0]->stats().links_established, 2u);
  ExchangeAll(2, 5, "after idle");
}

TEST_F(TransportTest, FullSendQueueDropsFrames) {
  // The raw peer never reads, so TCP backs up and then the bounded queue fills.
  const KeyPair raw_key = Key(77);
  StartNetwork(2, [](TransportConfig& c) {
    c.max_frame_bytes = 1 << 20;
    c.max_queued_bytes_per_peer = 2 << 20;
  });
  std::vector<Peer> peers = PeersOf(keys_);
  peers.push_back({raw_key.public_key(), "127.0.0.1", 1});
  transports_[0]->SetPeers(peers);
  std::optional<RawPeer> raw;
  std::optional<Session> session;
  ASSERT_TRUE(WaitFor([&] {
    return raw.emplace().Connect(ports_[0]) &&
           (session = raw->Handshake(raw_key, keys_[0].public_key(), 1 << 20)).has_value();
  }));
  ASSERT_TRUE(WaitFor([&] { return transports_[0]->ConnectedPeers().size() == 2; }));
  constexpr size_t kFrames = 64;
  for (size_t i = 0; i < kFrames; ++i) ASSERT_TRUE(transports_[0]->Send(raw_key.public_key(), Bytes(1 << 20, 1)).ok());
  ASSERT_TRUE(WaitFor([&] { return transports_[0]->stats().frames_dropped > 0; }));
  EXPECT_LT(transports_[0]->stats().frames_dropped, kFrames);
  // The other link is unaffected.
  ExchangeAll(2, 5, "beside a full queue");
}

TEST_F(TransportTest, RestartedPeerIsRedialledWithBackoff) {
  constexpr size_t n = 4;
  StartNetwork(n);
  ExchangeAll(n, 10, "before");
  // The highest key is dialled by everyone; stop it and free its port.
  const size_t last = n - 1;
  transports_[last].reset();
  for (size_t i = 0; i < last; ++i) {
    ASSERT_TRUE(WaitFor([&] { return transports_[i]->ConnectedPeers().size() == n - 2; })) << i;
    EXPECT_EQ(inboxes_[i]->EventsFor(keys_[last].public_key()), (std::vector<bool>{true, false}));
  }
  // Let a few dials fail so back-off is exercised.
  const uint64_t dials_before = transports_[0]->stats().dials;
  ASSERT_TRUE(WaitFor([&] { return transports_[0]->stats().dials >= dials_before + 2; }));
  ASSERT_TRUE(transports_[0]->Send(keys_[last].public_key(), Text("into the void")).ok());
  ASSERT_TRUE(WaitFor([&] { return transports_[0]->stats().frames_dropped >= 1; }));
  // Recreate it on the same port, once the old listener has closed on the io thread.
  Transport* again = nullptr;
  ASSERT_TRUE(WaitFor([&] { return (again = Make(last, keys_[last], ports_[last], nullptr, true)) != nullptr; }));
  again->SetPeers(PeersOf(keys_));
  again->Start();
  ASSERT_TRUE(AllLinked(n));
  ExchangeAll(n, 10, "after");
  for (size_t i = 0; i < last; ++i) {
    EXPECT_EQ(inboxes_[i]->EventsFor(keys_[last].public_key()), (std::vector<bool>{true, false, true}));
    EXPECT_TRUE(inboxes_[i]->FramesFrom(keys_[last].public_key()).size() == 20);
  }
}

TEST_F(TransportTest, NoHandlerRunsAfterStop) {
  constexpr size_t n = 3;
  StartNetwork(n);
  std::atomic<bool> stopped{false};
  std::atomic<int> late{0};
  // Replace validator 1 with one whose handlers check the flag.
  transports_[1].reset();
  ASSERT_TRUE(WaitFor([&] {
    TransportConfig config(keys_[1], std::string(kChain));
    config.listen_port = ports_[1];
    TransportHandlers handlers;
    handlers.on_frame = [&](const PublicKey&, Bytes) {
      if (stopped) late++;
    };
    handlers.on_peer = [&](const PublicKey&, bool) {
      if (stopped) late++;
    };
    Result<std::unique_ptr<Transport>> t = Transport::Create(io_, config, handlers);
    if (!t.ok()) return false;
    transports_[1] = std::move(t).value();
    return true;
  }));
  transports_[1]->SetPeers(PeersOf(keys_));
  transports_[1]->Start();
  ASSERT_TRUE(AllLinked(n));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(transports_[0]->Send(keys_[1].public_key(), Text("x")).ok());
    ASSERT_TRUE(transports_[2]->Send(keys_[1].public_key(), Text("y")).ok());
  }
  transports_[1]->Stop();
  stopped = true;
  EXPECT_TRUE(transports_[1]->Send(keys_[0].public_key(), Text("after stop")).ok());
  for (size_t i : {size_t{0}, size_t{2}}) {
    ASSERT_TRUE(WaitFor([&] { return transports_[i]->ConnectedPeers().size() == 1; }));
  }
  transports_[1].reset();
  EXPECT_EQ(late, 0);
  EXPECT_TRUE(inboxes_[0]->FramesFrom(keys_[1].public_key()).empty());
}

TEST(TransportCreateTest, InvalidConfigAndBusyPortAreRefused) {
  asio::io_context io;
  auto create = [&](const std::function<void(TransportConfig&)>& tweak) {
    TransportConfig config(Key(1), std::string(kChain));
    tweak(config);
    Result<std::unique_ptr<Transport>> t = Transport::Create(io, config, {});
    return t.ok() ? std::string("OK") : t.status().code();
  };
  EXPECT_EQ(create([](TransportConfig&) {}), "OK");
  EXPECT_EQ(create([](TransportConfig& c) { c.chain_id = std::string(65, 'c'); }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.max_frame_bytes = 0; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.max_queued_bytes_per_peer = c.max_frame_bytes - 1; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.max_pending_handshakes = 0; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.backoff_initial = 0ms; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.backoff_max = c.backoff_initial - 1ms; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.handshake_timeout = 0ms; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.idle_timeout = c.keepalive_interval; }), "INVALID_CONFIG");
  EXPECT_EQ(create([](TransportConfig& c) { c.listen_host = "localhost"; }), "INVALID_CONFIG");
  TransportConfig first(Key(1), std::string(kChain));
  Result<std::unique_ptr<Transport>> t = Transport::Create(io, first, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(create([&](TransportConfig& c) { c.listen_port = (*t)->local_port(); }), "BIND_FAILED");
}

}  // namespace
}  // namespace gongshe::node
