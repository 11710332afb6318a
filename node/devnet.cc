#include "node/devnet.h"


#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "common/file.h"
#include "contracts/lexer.h"
#include "gongshe/v1/genesis.pb.h"
#include "ledger/genesis.h"
#include "ledger/key_file.h"
#include "ledger/laws.h"

extern char** environ;

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kGenesisFile = "genesis.json";
constexpr size_t kLogTailBytes = 8 * 1024;

Status InitError(std::string message) { return {"INIT", std::move(message)}; }
Status NetworkError(std::string message) { return {"NETWORK", std::move(message)}; }
Status ProcessError(std::string message) { return {"PROCESS", std::move(message)}; }

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) p = path;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p.string();
}

std::string HomeOf(const std::string& dir, size_t i) { return (fs::path(dir) / ("node" + std::to_string(i))).string(); }

std::string Raw(const ledger::PublicKey& key) { return std::string(AsChars(key)); }

ledger::PublicKey KeyOf(const std::string& raw) {
  std::optional<ledger::PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(raw));
  GS_ASSERT(key.has_value());  // CheckGenesis checked every key's length
  return *key;
}

Status MakeFolder(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return Status::Ok();
  return {"IO_ERROR", "cannot create folder " + path + ": " + std::strerror(errno)};
}

Status MakeFolders(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return {"IO_ERROR", "cannot create folder " + path + ": " + ec.message()};
  return Status::Ok();
}

v1::Genesis BuildGenesis(const InitOptions& options, const std::string& chain_id, int64_t time_ms,
                         const std::vector<std::array<ledger::KeyPair, 3>>& keys) {
  v1::Genesis genesis;
  genesis.set_version(1);
  genesis.set_chain_id(chain_id);
  genesis.set_genesis_time_ms(time_ms);
  genesis.set_week_ms(options.devnet ? kDevnetWeekMs : kWeekMs);
  genesis.set_epoch_ms(options.devnet ? kDevnetEpochMs : kEpochMs);
  for (size_t i = 0; i < keys.size(); ++i) {
    v1::Commune* commune = genesis.add_communes();
    commune->set_name("commune-" + std::to_string(i));
    commune->set_validator(Raw(keys[i][0].public_key()));
    commune->set_registrar(Raw(keys[i][1].public_key()));
    commune->set_issuer(Raw(keys[i][2].public_key()));
  }
  ledger::AddStandardLaws(genesis);
  return genesis;
}

// Replaces the genesis laws with every *.law file of `dir` (at most ledger::kMaxLaws), in
// file-name order, each cited by its path under `dir` as given.
Status ReadLaws(const std::string& dir, v1::Genesis& genesis) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".law") files.push_back(it->path());
    if (files.size() > ledger::kMaxLaws) return InitError(dir + " holds more than " + std::to_string(ledger::kMaxLaws) + " laws");
  }
  if (ec) return InitError("cannot read the laws in " + dir + ": " + ec.message());
  if (files.empty()) return InitError(dir + " holds no .law files");
  std::sort(files.begin(), files.end());
  genesis.clear_laws();
  for (const fs::path& file : files) {
    Result<std::string> source = ReadFileBytes(file.string(), contracts::kMaxSourceBytes);
    if (!source.ok()) return InitError(source.status().message());
    v1::GenesisLaw* law = genesis.add_laws();
    law->set_file(file.string());
    law->set_source(*std::move(source));
  }
  return Status::Ok();
}

NetworkNode NodeOf(const std::string& dir, const v1::Commune& commune, size_t i, const NodeConfig& config) {
  NetworkNode node;
  node.home = HomeOf(dir, i);
  node.moniker = config.moniker;
  node.validator = KeyOf(commune.validator());
  node.registrar = KeyOf(commune.registrar());
  node.issuer = KeyOf(commune.issuer());
  node.p2p = config.p2p_listen;
  node.api = config.api_listen;
  return node;
}

NodeConfig ConfigFor(const std::string& home, size_t i, uint32_t validators, uint32_t base_port,
                     const std::vector<std::array<ledger::KeyPair, 3>>& keys) {
  auto p2p = [&](size_t n) { return HostPort{"127.0.0.1", static_cast<uint16_t>(base_port + 2 * n)}; };
  NodeConfig config;
  config.home = home;
  config.moniker = "node" + std::to_string(i);
  config.p2p_listen = p2p(i);
  config.api_listen = HostPort{"127.0.0.1", static_cast<uint16_t>(base_port + 2 * i + 1)};
  for (size_t n = 0; n < validators; ++n) {
    if (n != i) config.peers.push_back(PeerConfig{keys[n][0].public_key(), p2p(n)});
  }
  return config;
}

Status CheckOptions(const InitOptions& options) {
  if (options.dir.empty()) return InitError("--dir is required");
  if (options.validators < 1 || options.validators > kMaxInitValidators) {
    return InitError("the number of validators must be between 1 and " + std::to_string(kMaxInitValidators));
  }
  if (options.base_port < 1 || options.base_port + 2 * options.validators - 1 > 65535) {
    return InitError("ports " + std::to_string(options.base_port) + ".." +
                     std::to_string(options.base_port + 2 * options.validators - 1) +
                     " do not fit in 1..65535; choose another --base-port");
  }
  if (options.genesis_time_ms && *options.genesis_time_ms < 0) return InitError("genesis time must not be negative");
  if (!options.log_level.empty() && !IsLogLevel(options.log_level)) {
    return InitError("the log level must be one of trace, debug, info, warn, error");
  }
  return Status::Ok();
}

// Refuses to overwrite a network unless `force`; with `force`, removes what will be rewritten and
// the homes of a larger network being replaced, the genesis first so that an interrupted init
// never leaves a genesis beside stale homes.
Status ClearTarget(const std::string& dir, uint32_t validators, bool force) {
  const std::string genesis = (fs::path(dir) / kGenesisFile).string();
  std::vector<std::string> taken;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(genesis, ec))) taken.push_back(genesis);
  for (size_t i = 0; i < validators; ++i) {
    if (fs::exists(fs::symlink_status(HomeOf(dir, i), ec))) taken.push_back(HomeOf(dir, i));
  }
  if (taken.empty()) return Status::Ok();
  if (!force) {
    return {"EXISTS", taken.front() + " already exists: " + dir +
                          " holds a network; choose another folder or use --force to replace it"};
  }
  for (size_t i = validators; i < kMaxInitValidators; ++i) {
    if (fs::exists(fs::path(HomeOf(dir, i)) / "config.toml", ec)) taken.push_back(HomeOf(dir, i));
  }
  for (const std::string& path : taken) {
    fs::remove_all(path, ec);
    if (ec) return {"IO_ERROR", "cannot remove " + path + ": " + ec.message()};
  }
  return Status::Ok();
}

Status WriteHome(const NodeConfig& config, const std::array<ledger::KeyPair, 3>& keys) {
  GS_RETURN_IF_ERROR(MakeFolder(config.home, 0755));
  GS_RETURN_IF_ERROR(MakeFolder((fs::path(config.home) / "keys").string(), 0700));
  GS_RETURN_IF_ERROR(MakeFolder(config.DataPath(), 0700));
  GS_RETURN_IF_ERROR(ledger::WriteKeyFile(config.ValidatorKeyPath(), keys[0]));
  GS_RETURN_IF_ERROR(ledger::WriteKeyFile((fs::path(config.home) / kRegistrarKeyFile).string(), keys[1]));
  GS_RETURN_IF_ERROR(ledger::WriteKeyFile((fs::path(config.home) / kIssuerKeyFile).string(), keys[2]));
  return WriteNodeConfig(config);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

Network NetworkOf(const std::string& dir, const ledger::GenesisDoc& doc) {
  Network network;
  network.dir = dir;
  network.genesis_path = (fs::path(dir) / kGenesisFile).string();
  network.genesis_hash = doc.hash;
  network.chain_id = doc.genesis.chain_id();
  network.genesis_time_ms = doc.genesis.genesis_time_ms();
  network.week_ms = doc.genesis.week_ms();
  network.epoch_ms = doc.genesis.epoch_ms();
  return network;
}

}  // namespace

bool LoopbackPortsFree(uint32_t base, uint32_t count) {
  for (uint32_t port = base; port < base + count; ++port) {
    if (port > 65535) return false;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

std::optional<uint32_t> FindFreeBasePort(uint32_t nodes, uint32_t lowest, uint32_t slots) {
  GS_ASSERT(slots > 0);
  std::mt19937 random(static_cast<uint32_t>(::getpid()) ^
                      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const uint32_t base = lowest + (random() % slots) * 8;
    if (LoopbackPortsFree(base, 2 * nodes)) return base;
  }
  return std::nullopt;
}

Result<Network> InitNetwork(const InitOptions& options) {
  GS_RETURN_IF_ERROR(CheckOptions(options));
  const std::string dir = AbsolutePath(options.dir);
  const std::string chain_id =
      !options.chain_id.empty() ? options.chain_id : (options.devnet ? "gongshe-devnet" : "gongshe-1");
  const int64_t time_ms = options.genesis_time_ms.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::vector<std::array<ledger::KeyPair, 3>> keys;
  for (size_t i = 0; i < options.validators; ++i) {
    keys.push_back({ledger::KeyPair::Generate(), ledger::KeyPair::Generate(), ledger::KeyPair::Generate()});
  }
  ledger::GenesisDoc doc;
  doc.genesis = BuildGenesis(options, chain_id, time_ms, keys);
  if (!options.laws_dir.empty()) GS_RETURN_IF_ERROR(ReadLaws(options.laws_dir, doc.genesis));
  Status valid = ledger::CheckGenesis(doc.genesis);
  if (!valid.ok()) return InitError(valid.message());
  const std::string json = ledger::GenesisToJson(doc.genesis);
  doc.hash = ledger::Sha256(AsBytes(json));

  GS_RETURN_IF_ERROR(MakeFolders(dir));
  GS_RETURN_IF_ERROR(ClearTarget(dir, options.validators, options.force));
  Network network = NetworkOf(dir, doc);
  for (size_t i = 0; i < options.validators; ++i) {
    NodeConfig config = ConfigFor(HomeOf(dir, i), i, options.validators, options.base_port, keys);
    if (!options.log_level.empty()) config.log_level = options.log_level;
    GS_RETURN_IF_ERROR(WriteHome(config, keys[i]));
    network.nodes.push_back(NodeOf(dir, doc.genesis.communes(static_cast<int>(i)), i, config));
  }
  GS_RETURN_IF_ERROR(WriteFileAtomic(network.genesis_path, json, 0644));
  return network;
}

Result<Network> LoadNetwork(const std::string& dir_arg) {
  const std::string dir = AbsolutePath(dir_arg);
  const std::string genesis_path = (fs::path(dir) / kGenesisFile).string();
  Result<std::string> json = ReadFileBytes(genesis_path, ledger::kMaxGenesisBytes);
  if (!json.ok()) {
    if (json.status().code() == "NOT_FOUND") return NetworkError(dir + " holds no genesis.json (see gongshe init)");
    return json.status();
  }
  Result<ledger::GenesisDoc> doc = ledger::ParseGenesis(*json);
  if (!doc.ok()) return Status{doc.status().code(), genesis_path + ": " + doc.status().message()};
  Network network = NetworkOf(dir, *doc);
  for (int i = 0; i < doc->genesis.communes_size(); ++i) {
    const v1::Commune& commune = doc->genesis.communes(i);
    Result<NodeConfig> config = LoadNodeConfig(HomeOf(dir, static_cast<size_t>(i)));
    if (!config.ok()) return config.status();
    if (config->GenesisPath() != genesis_path) {
      return NetworkError(config->home + "/config.toml names genesis " + config->GenesisPath() + ", not " + genesis_path);
    }
    Result<ledger::KeyPair> key = ledger::ReadKeyFile(config->ValidatorKeyPath());
    if (!key.ok()) return key.status();
    if (Raw(key->public_key()) != commune.validator()) {
      return NetworkError(config->ValidatorKeyPath() + " is not the validator key of " + commune.name() +
                          " in the genesis");
    }
    network.nodes.push_back(NodeOf(dir, commune, static_cast<size_t>(i), *config));
  }
  return network;
}

std::string NetworkToJson(const Network& network) {
  std::string out = "{\"dir\":" + JsonString(network.dir) + ",\"genesis\":" + JsonString(network.genesis_path) +
                    ",\"genesis_hash\":\"" + ToHex(network.genesis_hash) + "\",\"chain_id\":" +
                    JsonString(network.chain_id) + ",\"genesis_time_ms\":" + std::to_string(network.genesis_time_ms) +
                    ",\"week_ms\":" + std::to_string(network.week_ms) +
                    ",\"epoch_ms\":" + std::to_string(network.epoch_ms) + ",\"nodes\":[";
  for (size_t i = 0; i < network.nodes.size(); ++i) {
    const NetworkNode& n = network.nodes[i];
    out += std::string(i ? "," : "") + "{\"moniker\":" + JsonString(n.moniker) + ",\"home\":" + JsonString(n.home) +
           ",\"validator\":\"" + ledger::PublicKeyToHex(n.validator) + "\",\"registrar\":\"" +
           ledger::PublicKeyToHex(n.registrar) + "\",\"issuer\":\"" + ledger::PublicKeyToHex(n.issuer) +
           "\",\"p2p\":" + JsonString(FormatHostPort(n.p2p)) + ",\"api\":" + JsonString(FormatHostPort(n.api)) + "}";
  }
  return out + "]}";
}

// --- Supervisor ------------------------------------------------------------------------------

namespace {

// Blocks until `pid` is reaped (it has exited or was sent SIGKILL). False if it was not our child
// (already reaped elsewhere, e.g. with SIGCHLD ignored).
bool WaitFor(pid_t pid, int& wait_status) {
  for (;;) {
    if (::waitpid(pid, &wait_status, 0) == pid) return true;
    if (errno != EINTR) return false;
  }
}

// An fd for the child's stdout/stderr that is not 0, 1 or 2 (dup2 onto itself would keep
// close-on-exec).
Result<int> OpenLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) return ProcessError("cannot open log " + path + ": " + std::strerror(errno));
  if (fd > 2) return fd;
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int err = errno;
  ::close(fd);
  if (high < 0) return ProcessError("cannot open log " + path + ": " + std::strerror(err));
  return high;
}

}  // namespace

Supervisor::Supervisor(std::vector<ChildSpec> children) {
  GS_ASSERT(children.size() <= kMaxChildren);
  for (ChildSpec& spec : children) {
    GS_ASSERT(!spec.argv.empty());
    children_.push_back(Child{std::move(spec), 0, std::nullopt});
  }
}

Supervisor::~Supervisor() { Stop(); }

Status Supervisor::Start(size_t i) {
  GS_ASSERT(i < children_.size());
  Child& child = children_[i];
  if (IsRunning(i)) return ProcessError("child " + std::to_string(i) + " is already running");
  Result<int> log = OpenLog(child.spec.log_path);
  if (!log.ok()) return log.status();

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  GS_ASSERT(::posix_spawn_file_actions_init(&actions) == 0);
  GS_ASSERT(::posix_spawnattr_init(&attr) == 0);
  GS_ASSERT(::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0);
  GS_ASSERT(::posix_spawn_file_actions_adddup2(&actions, *log, 1) == 0);
  GS_ASSERT(::posix_spawn_file_actions_adddup2(&actions, *log, 2) == 0);
  // Own process group (so signals reach everything the child starts), empty mask (the devnet
  // command blocks SIGINT/SIGTERM), default dispositions (SIG_IGN survives exec).
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, sig);
  GS_ASSERT(::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) == 0);
  GS_ASSERT(::posix_spawnattr_setpgroup(&attr, 0) == 0);
  GS_ASSERT(::posix_spawnattr_setsigmask(&attr, &empty) == 0);
  GS_ASSERT(::posix_spawnattr_setsigdefault(&attr, &defaults) == 0);

  std::vector<char*> argv;
  for (std::string& arg : child.spec.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(*log);
  if (rc != 0) return ProcessError("cannot start " + child.spec.argv[0] + ": " + std::strerror(rc));
  child.pid = pid;
  return Status::Ok();
}

Status Supervisor::StartAll() {
  std::vector<size_t> started;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (IsRunning(i)) continue;
    Status status = Start(i);
    if (!status.ok()) {
      for (size_t s : started) Kill(s);
      return status;
    }
    started.push_back(i);
  }
  return Status::Ok();
}

void Supervisor::Reaped(Child& child, int wait_status) {
  child.pid = 0;
  child.last_exit = wait_status;
}

void Supervisor::Kill(size_t i) {
  GS_ASSERT(i < children_.size());
  Child& child = children_[i];
  if (child.pid == 0) return;
  ::kill(-child.pid, SIGKILL);
  int wait_status = 0;
  if (WaitFor(child.pid, wait_status)) {
    Reaped(child, wait_status);
  } else {
    child.pid = 0;
  }
}

Status Supervisor::Restart(size_t i) {
  Kill(i);
  return Start(i);
}

bool Supervisor::IsRunning(size_t i) {
  GS_ASSERT(i < children_.size());
  Child& child = children_[i];
  if (child.pid == 0) return false;
  // Look without reaping: while the exited child is a zombie its pid (and so its group id) cannot
  // be reused, so what is left of its group can be killed safely before it is reaped.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) {
      child.pid = 0;  // not our child any more (reaped elsewhere)
      return false;
    }
  }
  if (info.si_pid == 0) return true;
  Kill(i);
  return false;
}

size_t Supervisor::Stop(std::chrono::milliseconds grace) {
  for (size_t i = 0; i < children_.size(); ++i) {
    if (IsRunning(i)) ::kill(-children_[i].pid, SIGTERM);
  }
  const Clock::time_point deadline = Clock::now() + grace;
  for (;;) {
    bool any = false;
    for (size_t i = 0; i < children_.size(); ++i) any = IsRunning(i) || any;
    if (!any || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  size_t killed = 0;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (!IsRunning(i)) continue;
    Kill(i);
    ++killed;
  }
  return killed;
}

pid_t Supervisor::pid(size_t i) const {
  GS_ASSERT(i < children_.size());
  return children_[i].pid;
}

std::optional<int> Supervisor::last_exit(size_t i) const {
  GS_ASSERT(i < children_.size());
  return children_[i].last_exit;
}

const ChildSpec& Supervisor::spec(size_t i) const {
  GS_ASSERT(i < children_.size());
  return children_[i].spec;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = ::strsignal(sig);
    return "killed by signal " + std::to_string(sig) + (name ? " (" + std::string(name) + ")" : "");
  }
  return "wait status " + std::to_string(wait_status);
}

Result<std::string> SelfExecutable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) {
    return ProcessError(std::string("cannot find the running executable (/proc/self/exe): ") + std::strerror(errno));
  }
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<ChildSpec> NodeChildren(const std::string& binary, const Network& network) {
  std::vector<ChildSpec> children;
  for (const NetworkNode& node : network.nodes) {
    children.push_back(ChildSpec{{binary, "node", "--home", node.home}, (fs::path(node.home) / kNodeLogFile).string()});
  }
  return children;
}

std::string LogTail(const std::string& path, size_t max_lines) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "(cannot read " + path + ": " + std::strerror(errno) + ")";
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0) {
    const off_t start = st.st_size > static_cast<off_t>(kLogTailBytes) ? st.st_size - static_cast<off_t>(kLogTailBytes) : 0;
    text.resize(static_cast<size_t>(st.st_size - start));
    const ssize_t n = ::pread(fd, text.data(), text.size(), start);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  if (text.empty()) return "(" + path + " is empty)";
  if (text.back() == '\n') text.pop_back();
  size_t begin = text.size() + 1;  // as if one more newline followed the text
  for (size_t lines = 0; lines < max_lines && begin > 0; ++lines) {
    const size_t newline = begin >= 2 ? text.rfind('\n', begin - 2) : std::string::npos;
    begin = newline == std::string::npos ? 0 : newline + 1;
  }
  return text.substr(begin);
}

namespace {

bool AnswersStatus(const HostPort& api) {
  const std::string host = api.host == "0.0.0.0" ? "127.0.0.1" : api.host == "::" ? "::1" : api.host;
  httplib::Client client(host, api.port);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  client.set_read_timeout(std::chrono::milliseconds(1000));
  httplib::Result result = client.Get("/v1/status");
  return result && result->status == 200;
}

Status NodeFailure(const std::string& code, const Supervisor& supervisor, size_t i, const std::string& what) {
  const std::string& log = supervisor.spec(i).log_path;
  return {code, "node" + std::to_string(i) + " " + what + "; last lines of " + log + ":\n" + LogTail(log, 20)};
}

}  // namespace

Status WaitUntilServing(Supervisor& supervisor, const Network& network, std::chrono::milliseconds timeout,
                        const std::function<bool()>& interrupted) {
  GS_ASSERT(supervisor.size() == network.nodes.size());
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<bool> ready(network.nodes.size(), false);
  for (;;) {
    if (interrupted && interrupted()) return {"INTERRUPTED", "interrupted while waiting for the nodes to start"};
    size_t waiting = 0;
    for (size_t i = 0; i < ready.size(); ++i) {
      if (ready[i]) continue;
      if (!supervisor.IsRunning(i)) {
        const std::optional<int> exit = supervisor.last_exit(i);
        return NodeFailure("NODE_EXITED", supervisor, i, exit ? DescribeWaitStatus(*exit) : "is not running");
      }
      ready[i] = AnswersStatus(network.nodes[i].api);
      waiting += ready[i] ? 0 : 1;
    }
    if (waiting == 0) return Status::Ok();
    if (Clock::now() >= deadline) {
      for (size_t i = 0; i < ready.size(); ++i) {
        if (ready[i]) continue;
        return NodeFailure("NODE_TIMEOUT", supervisor, i,
                           "did not answer GET http://" + FormatHostPort(network.nodes[i].api) + "/v1/status within " +
                               std::to_string(timeout.count()) + " ms");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace gongshe::node
