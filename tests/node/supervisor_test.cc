// node/devnet.h, Supervisor and WaitUntilServing, with harmless children (sleep, sh) in place of
// nodes: start, kill, restart, stop with escalation, and no child left unreaped.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "node/devnet.h"

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// True once `pid` is no child of ours any more: reaped, never to be a zombie.
bool Reaped(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD;
}

// Not alive: gone, or a zombie awaiting its new parent (init may be slow to reap in a container).
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line((std::istreambuf_iterator<char>(stat)), {});
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "gongshe-supervisor-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  ChildSpec Sleep(int i) { return {{"/bin/sleep", "30"}, Log(i)}; }
  ChildSpec Shell(int i, const std::string& script) { return {{"/bin/sh", "-c", script}, Log(i)}; }
  std::string Log(int i) { return dir_ + "/child" + std::to_string(i) + ".log"; }

  std::string dir_;
};

TEST_F(SupervisorTest, StartsKillsRestartsAndReapsEveryChild) {
  std::vector<pid_t> all;
  {
    Supervisor supervisor({Sleep(0), Sleep(1), Sleep(2)});
    ASSERT_EQ(supervisor.size(), 3u);
    ASSERT_TRUE(supervisor.StartAll().ok());
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(supervisor.IsRunning(i));
      EXPECT_GT(supervisor.pid(i), 0);
      EXPECT_EQ(::getpgid(supervisor.pid(i)), supervisor.pid(i)) << "each child leads its own process group";
      all.push_back(supervisor.pid(i));
    }
    EXPECT_EQ(supervisor.Start(0).code(), "PROCESS") << "a running child is not started twice";

    const pid_t killed = supervisor.pid(1);
    supervisor.Kill(1);
    EXPECT_FALSE(supervisor.IsRunning(1));
    EXPECT_EQ(supervisor.pid(1), 0);
    EXPECT_TRUE(Reaped(killed));
    ASSERT_TRUE(supervisor.last_exit(1).has_value());
    EXPECT_TRUE(WIFSIGNALED(*supervisor.last_exit(1)) && WTERMSIG(*supervisor.last_exit(1)) == SIGKILL);
    supervisor.Kill(1);  // no-op on a stopped child

    ASSERT_TRUE(supervisor.Restart(1).ok());
    EXPECT_TRUE(supervisor.IsRunning(1));
    EXPECT_NE(supervisor.pid(1), killed);
    all.push_back(supervisor.pid(1));

    const pid_t running = supervisor.pid(2);
    ASSERT_TRUE(supervisor.Restart(2).ok());  // a running child is killed first
    EXPECT_TRUE(Reaped(running));
    EXPECT_TRUE(supervisor.IsRunning(2));
    all.push_back(supervisor.pid(2));

    EXPECT_EQ(supervisor.Stop(5s), 0u) << "sleep exits on SIGTERM";
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_FALSE(supervisor.IsRunning(i));
      ASSERT_TRUE(supervisor.last_exit(i).has_value());
      EXPECT_EQ(DescribeWaitStatus(*supervisor.last_exit(i)).rfind("killed by signal 15", 0), 0u)
          << DescribeWaitStatus(*supervisor.last_exit(i));
    }
    ASSERT_TRUE(supervisor.StartAll().ok());  // stopped children can start again
    for (size_t i = 0; i < 3; ++i) all.push_back(supervisor.pid(i));
  }  // the destructor stops them
  for (pid_t pid : all) EXPECT_TRUE(Reaped(pid)) << pid;
}

TEST_F(SupervisorTest, StopEscalatesToSigkillAfterTheGrace) {
  Supervisor supervisor({Shell(0, "trap '' TERM; echo ready; exec sleep 30"), Sleep(1)});
  ASSERT_TRUE(supervisor.StartAll().ok());
  ASSERT_TRUE(Eventually([&] { return ReadAll(Log(0)) == "ready\n"; })) << "the shell ignores SIGTERM from here";
  const pid_t stubborn = supervisor.pid(0), polite = supervisor.pid(1);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(supervisor.Stop(300ms), 1u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(WIFSIGNALED(*supervisor.last_exit(0)) && WTERMSIG(*supervisor.last_exit(0)) == SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(*supervisor.last_exit(1)) && WTERMSIG(*supervisor.last_exit(1)) == SIGTERM);
  EXPECT_TRUE(Reaped(stubborn));
  EXPECT_TRUE(Reaped(polite));
}

TEST_F(SupervisorTest, SignalsReachTheWholeProcessGroup) {
  // The shell starts a grandchild and reports its pid; killing the child must take it down too.
  Supervisor supervisor({Shell(0, "sleep 30 & echo $!; wait"), Shell(1, "sleep 30 & echo $!; exit 0")});
  ASSERT_TRUE(supervisor.StartAll().ok());
  ASSERT_TRUE(Eventually([&] { return ReadAll(Log(0)).find('\n') != std::string::npos; }));
  const pid_t grandchild = std::stoi(ReadAll(Log(0)));
  EXPECT_FALSE(Dead(grandchild));
  supervisor.Kill(0);
  EXPECT_TRUE(Eventually([&] { return Dead(grandchild); })) << grandchild;

  // A child that exits on its own leaves a grandchild behind: reaping it kills its group as well.
  ASSERT_TRUE(Eventually([&] { return !supervisor.IsRunning(1); }));
  const pid_t orphan = std::stoi(ReadAll(Log(1)));
  EXPECT_TRUE(Eventually([&] { return Dead(orphan); })) << orphan;
  EXPECT_EQ(DescribeWaitStatus(*supervisor.last_exit(1)), "exited with code 0");
}

TEST_F(SupervisorTest, OutputIsAppendedToTheLogAndExitsAreReported) {
  Supervisor supervisor({Shell(0, "echo out; echo err >&2; cat; exit 3")});
  ASSERT_TRUE(supervisor.Start(0).ok());
  ASSERT_TRUE(Eventually([&] { return !supervisor.IsRunning(0); })) << "stdin is /dev/null, so cat returns at once";
  EXPECT_EQ(DescribeWaitStatus(*supervisor.last_exit(0)), "exited with code 3");
  ASSERT_TRUE(supervisor.Restart(0).ok());
  ASSERT_TRUE(Eventually([&] { return !supervisor.IsRunning(0); }));
  EXPECT_EQ(ReadAll(Log(0)), "out\nerr\nout\nerr\n");
  EXPECT_EQ(LogTail(Log(0), 3), "err\nout\nerr");
}

TEST_F(SupervisorTest, ChildrenGetDefaultSignalsAndAnEmptyMask) {
  // The devnet command blocks SIGINT/SIGTERM and a shell may ignore SIGINT: children must not inherit either.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGINT, &ignore, &previous), 0);
  Supervisor supervisor({Sleep(0), Sleep(1)});
  Status started = supervisor.StartAll();
  ASSERT_EQ(::sigaction(SIGINT, &previous, nullptr), 0);
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  ASSERT_TRUE(started.ok());

  ::kill(supervisor.pid(0), SIGINT);
  ASSERT_TRUE(Eventually([&] { return !supervisor.IsRunning(0); }));
  EXPECT_EQ(WTERMSIG(*supervisor.last_exit(0)), SIGINT);
  EXPECT_EQ(supervisor.Stop(5s), 0u);
  EXPECT_EQ(WTERMSIG(*supervisor.last_exit(1)), SIGTERM);
}

TEST_F(SupervisorTest, SpawnFailuresAreErrors) {
  Supervisor supervisor({{{"/nonexistent/program"}, Log(0)}, {{"/bin/sleep", "30"}, dir_ + "/no/such/folder/log"},
                         Sleep(2)});
  Status missing = supervisor.Start(0);
  EXPECT_EQ(missing.code(), "PROCESS");
  EXPECT_NE(missing.message().find("/nonexistent/program"), std::string::npos);
  EXPECT_FALSE(supervisor.IsRunning(0));
  EXPECT_EQ(supervisor.Start(1).code(), "PROCESS");
  EXPECT_FALSE(supervisor.IsRunning(1));

  // StartAll gives up at the first failure and takes down what it started.
  Supervisor partial({Sleep(0), {{"/nonexistent/program"}, Log(1)}});
  EXPECT_EQ(partial.StartAll().code(), "PROCESS");
  EXPECT_FALSE(partial.IsRunning(0));
}

TEST_F(SupervisorTest, NodeChildrenRunTheNodeCommandInEachHome) {
  Network network;
  network.nodes.resize(2);
  network.nodes[0].home = "/x/node0";
  network.nodes[1].home = "/x/node1";
  std::vector<ChildSpec> children = NodeChildren("/usr/bin/gongshe", network);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[1].argv, (std::vector<std::string>{"/usr/bin/gongshe", "node", "--home", "/x/node1"}));
  EXPECT_EQ(children[1].log_path, "/x/node1/node.log");

  Result<std::string> self = SelfExecutable();
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(fs::path(*self).is_absolute());
  EXPECT_TRUE(fs::equivalent(*self, "/proc/self/exe"));
}

TEST_F(SupervisorTest, LogTailKeepsTheLastLines) {
  const std::string path = dir_ + "/tail.log";
  EXPECT_NE(LogTail(path, 5).find("cannot read"), std::string::npos);
  std::ofstream(path) << "";
  EXPECT_NE(LogTail(path, 5).find("is empty"), std::string::npos);
  std::ofstream(path) << "a\nb\nc\n";
  EXPECT_EQ(LogTail(path, 2), "b\nc");
  EXPECT_EQ(LogTail(path, 3), "a\nb\nc");
  EXPECT_EQ(LogTail(path, 10), "a\nb\nc");
  std::ofstream(path) << "\nlast";
  EXPECT_EQ(LogTail(path, 1), "last");
  EXPECT_EQ(LogTail(path, 2), "\nlast");
  {
    std::ofstream big(path);
    for (int i = 0; i < 10'000; ++i) big << "line " << i << "\n";
  }
  EXPECT_EQ(LogTail(path, 2), "line 9998\nline 9999");
  EXPECT_LE(LogTail(path, 100'000).size(), 8u * 1024);
}

// A port with nothing listening on it (for a moment: the kernel does not hand it out again at once).
uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class WaitUntilServingTest : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    server_.Get("/v1/status", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    // The socket listens from bind_to_any_port on; early connections wait in the backlog.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the server runs, so TearDown must not come before that.
    ASSERT_TRUE(Eventually([&] { return server_.is_running(); }));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
    SupervisorTest::TearDown();
  }

  // Node i's API is the test server when `serving[i]`, else a closed port.
  Network MakeNetwork(std::vector<bool> serving) {
    Network network;
    for (bool s : serving) {
      NetworkNode node;
      node.api = {"127.0.0.1", s ? static_cast<uint16_t>(port_) : UnusedPort()};
      network.nodes.push_back(node);
    }
    return network;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(WaitUntilServingTest, ReturnsOnceEveryNodeAnswers) {
  Network network = MakeNetwork({true, true});
  Supervisor supervisor({Sleep(0), Sleep(1)});
  ASSERT_TRUE(supervisor.StartAll().ok());
  Status status = WaitUntilServing(supervisor, network, 5s, [] { return false; });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(WaitUntilServingTest, NamesTheNodeThatDoesNotAnswerWithItsLog) {
  Network network = MakeNetwork({true, false});
  Supervisor supervisor({Sleep(0), Shell(1, "echo 'cannot bind the API port'; exec sleep 30")});
  ASSERT_TRUE(supervisor.StartAll().ok());
  ASSERT_TRUE(Eventually([&] { return !ReadAll(Log(1)).empty(); }));
  const auto start = std::chrono::steady_clock::now();
  Status status = WaitUntilServing(supervisor, network, 400ms, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(status.code(), "NODE_TIMEOUT");
  EXPECT_EQ(status.message().rfind("node1 did not answer", 0), 0u) << status.message();
  EXPECT_NE(status.message().find("cannot bind the API port"), std::string::npos) << status.message();
}

TEST_F(WaitUntilServingTest, FailsAtOnceWhenANodeExits) {
  Network network = MakeNetwork({false, true});
  Supervisor supervisor({Shell(0, "echo 'bad genesis' >&2; exit 2"), Sleep(1)});
  ASSERT_TRUE(supervisor.StartAll().ok());
  Status status = WaitUntilServing(supervisor, network, 30s, {});
  EXPECT_EQ(status.code(), "NODE_EXITED");
  EXPECT_NE(status.message().find("node0 exited with code 2"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("bad genesis"), std::string::npos) << status.message();
}

TEST_F(WaitUntilServingTest, StopsWhenInterrupted) {
  Network network = MakeNetwork({false});
  Supervisor supervisor({Sleep(0)});
  ASSERT_TRUE(supervisor.StartAll().ok());
  int calls = 0;
  Status status = WaitUntilServing(supervisor, network, 30s, [&] { return ++calls == 3; });
  EXPECT_EQ(status.code(), "INTERRUPTED");
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace gongshe::node
