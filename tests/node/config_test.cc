// node/config.h: config.toml round trip and every refusal.

#include "node/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "ledger/key_file.h"

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "gongshe-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    home_ = pattern;
  }
  void TearDown() override { fs::remove_all(home_); }

  void WriteToml(const std::string& text) { std::ofstream(fs::path(home_) / "config.toml") << text; }

  // Loads `text` and expects a CONFIG error whose message contains every one of `parts`.
  void ExpectRefused(const std::string& text, std::initializer_list<std::string> parts) {
    SCOPED_TRACE(text);
    WriteToml(text);
    Result<NodeConfig> config = LoadNodeConfig(home_);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), "CONFIG");
    for (const std::string& part : parts) {
      EXPECT_NE(config.status().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << config.status().message();
    }
  }

  std::string home_;
};

ledger::PublicKey Key(uint8_t fill) {
  ledger::PublicKey key;
  key.fill(fill);
  return key;
}

TEST_F(ConfigTest, RoundTripKeepsEverySetting) {
  NodeConfig config;
  config.home = home_ + "/";  // a trailing slash must not matter
  config.moniker = "Red \"Star\" #2 '\\ ☭";
  config.genesis_file = "/etc/gongshe/genesis.json";
  config.validator_key_file = "secret/v.key";
  config.data_dir = "db";
  config.log_level = "debug";
  config.p2p_listen = {"0.0.0.0", 30000};
  config.api_listen = {"::1", 30001};
  config.peers = {{Key(1), {"10.0.0.2", 30000}}, {Key(2), {"fe80::1", 1}}, {Key(0xff), {"node-3.example.org", 65535}}};
  config.base_timeout_ms = 10;
  config.empty_block_interval_ms = 600'000;
  config.max_block_txs = 1;
  config.max_block_bytes = 16 * 1024 * 1024;
  config.max_clock_drift_ms = 1;
  config.mempool_max_txs = 10'000'000;
  config.mempool_max_bytes = 16 * 1024;
  ASSERT_TRUE(WriteNodeConfig(config).ok());

  Result<NodeConfig> loaded = LoadNodeConfig(home_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->home, home_);
  EXPECT_EQ(loaded->moniker, config.moniker);
  EXPECT_EQ(loaded->genesis_file, config.genesis_file);
  EXPECT_EQ(loaded->validator_key_file, config.validator_key_file);
  EXPECT_EQ(loaded->data_dir, config.data_dir);
  EXPECT_EQ(loaded->log_level, config.log_level);
  EXPECT_EQ(FormatHostPort(loaded->p2p_listen), "0.0.0.0:30000");
  EXPECT_EQ(FormatHostPort(loaded->api_listen), "[::1]:30001");
  ASSERT_EQ(loaded->peers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(loaded->peers[i].key, config.peers[i].key);
    EXPECT_EQ(loaded->peers[i].address.host, config.peers[i].address.host);
    EXPECT_EQ(loaded->peers[i].address.port, config.peers[i].address.port);
  }
  EXPECT_EQ(loaded->base_timeout_ms, config.base_timeout_ms);
  EXPECT_EQ(loaded->empty_block_interval_ms, config.empty_block_interval_ms);
  EXPECT_EQ(loaded->max_block_txs, config.max_block_txs);
  EXPECT_EQ(loaded->max_block_bytes, config.max_block_bytes);
  EXPECT_EQ(loaded->max_clock_drift_ms, config.max_clock_drift_ms);
  EXPECT_EQ(loaded->mempool_max_txs, config.mempool_max_txs);
  EXPECT_EQ(loaded->mempool_max_bytes, config.mempool_max_bytes);

  EXPECT_EQ(loaded->GenesisPath(), "/etc/gongshe/genesis.json");
  EXPECT_EQ(loaded->ValidatorKeyPath(), home_ + "/secret/v.key");
  EXPECT_EQ(loaded->DataPath(), home_ + "/db");

  // Written once more from what was read, the file is byte for byte the same.
  std::ifstream first(fs::path(home_) / "config.toml");
  std::string before((std::istreambuf_iterator<char>(first)), {});
  ASSERT_TRUE(WriteNodeConfig(*loaded).ok());
  std::ifstream second(fs::path(home_) / "config.toml");
  EXPECT_EQ(before, std::string((std::istreambuf_iterator<char>(second)), {}));
  // The atomic write leaves nothing else behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(home_), fs::directory_iterator()), 1);
}

TEST_F(ConfigTest, EmptyFileGivesTheDefaults) {
  WriteToml("# nothing set\n");
  Result<NodeConfig> loaded = LoadNodeConfig(home_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  NodeConfig defaults;
  EXPECT_EQ(loaded->genesis_file, defaults.genesis_file);
  EXPECT_EQ(loaded->base_timeout_ms, defaults.base_timeout_ms);
  EXPECT_EQ(loaded->mempool_max_bytes, defaults.mempool_max_bytes);
  EXPECT_EQ(FormatHostPort(loaded->api_listen), FormatHostPort(defaults.api_listen));
  EXPECT_TRUE(loaded->peers.empty());
  EXPECT_EQ(loaded->GenesisPath(), (fs::path(home_).parent_path() / "genesis.json").string());
}

TEST_F(ConfigTest, MissingOrUnreadableFileIsRefused) {
  Result<NodeConfig> missing = LoadNodeConfig(home_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), "CONFIG");
  EXPECT_NE(missing.status().message().find("no config file"), std::string::npos);

  fs::create_directory(fs::path(home_) / "config.toml");
  Result<NodeConfig> folder = LoadNodeConfig(home_);
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), "CONFIG");
  EXPECT_NE(folder.status().message().find("not a regular file"), std::string::npos);
  fs::remove(fs::path(home_) / "config.toml");

  WriteToml("# " + std::string(kMaxConfigBytes, 'x') + "\n");
  Result<NodeConfig> huge = LoadNodeConfig(home_);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), "CONFIG");
  EXPECT_NE(huge.status().message().find("larger than"), std::string::npos);
}

TEST_F(ConfigTest, BadTomlIsRefusedWithItsLine) {
  ExpectRefused("[node]\nmoniker = \"a\"\nlog_level = \n", {"config.toml:3", "not valid TOML"});
  ExpectRefused("[node]\nmoniker = \"a\"\nmoniker = \"b\"\n", {"not valid TOML"});
  ExpectRefused("[node\n", {"not valid TOML"});
  ExpectRefused(std::string("[node]\nmoniker = \"\xff\"\n"), {"not valid TOML"});
}

TEST_F(ConfigTest, UnknownSectionsAndKeysAreRefused) {
  ExpectRefused("[nodes]\nmoniker = \"a\"\n", {"config.toml:1", "nodes", "unknown section"});
  ExpectRefused("top = 1\n", {"top", "unknown section"});
  ExpectRefused("[node]\nmonicker = \"a\"\n", {"config.toml:2", "node.monicker", "unknown key"});
  ExpectRefused("[p2p]\nlisten = \"a:1\"\nseeds = []\n", {"p2p.seeds", "unknown key"});
  ExpectRefused("[api]\nport = 1\n", {"api.port", "unknown key"});
  ExpectRefused("[consensus]\ntimeout_ms = 1000\n", {"consensus.timeout_ms", "unknown key"});
  ExpectRefused("[mempool]\nmax_tx = 1\n", {"mempool.max_tx", "unknown key"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + std::string(64, 'a') + "\", address = \"a:1\", weight = 2 }]\n",
                {"p2p.peers[0].weight", "unknown key"});
}

TEST_F(ConfigTest, WrongTypesAreRefused) {
  ExpectRefused("node = 5\n", {"node", "must be a table"});
  ExpectRefused("[node]\nmoniker = 5\n", {"node.moniker", "must be a string"});
  ExpectRefused("[node]\ngenesis = [\"a\"]\n", {"node.genesis", "must be a string"});
  ExpectRefused("[node]\nlog_level = true\n", {"node.log_level", "must be a string"});
  ExpectRefused("[consensus]\nbase_timeout_ms = \"1000\"\n", {"consensus.base_timeout_ms", "must be an integer"});
  ExpectRefused("[consensus]\nmax_block_txs = 10.0\n", {"consensus.max_block_txs", "must be an integer"});
  ExpectRefused("[mempool]\nmax_txs = 1979-05-27\n", {"mempool.max_txs", "must be an integer"});
  ExpectRefused("[api]\nlisten = 26657\n", {"api.listen", "host:port"});
  ExpectRefused("[p2p]\npeers = \"a:1\"\n", {"p2p.peers", "must be an array"});
  ExpectRefused("[p2p]\npeers = [5]\n", {"p2p.peers[0]", "must be a table"});
  ExpectRefused("[p2p]\npeers = [{ key = 5, address = \"a:1\" }]\n", {"p2p.peers[0].key", "64 hex digits"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + std::string(64, 'a') + "\", address = 1 }]\n",
                {"p2p.peers[0].address", "host:port"});
}

TEST_F(ConfigTest, BadAddressesAreRefused) {
  for (const char* bad : {"localhost", "localhost:", ":80", "host:0", "host:65536", "host:99999", "host:abc",
                          "host:+80", "host:-1", "host: 80", "host:000080", "::1:80", "[::1]80", "[::1", "[]:80",
                          "[host]:80", "[::1]:", "[fe80::1%eth0]:1", "a..b:80", "-a:80", ".a:80", "a.:80", "a b:80", "a/b:80", ""}) {
    ExpectRefused(std::string("[p2p]\nlisten = \"") + bad + "\"\n", {"p2p.listen", "is not host:port"});
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
  ExpectRefused("[p2p]\nlisten = \"" + std::string(254, 'a') + ":1\"\n", {"p2p.listen", "longer than 253"});
  ExpectRefused("[api]\nlisten = \"host:0\"\n", {"api.listen", "port must be 1-65535"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + std::string(64, 'a') + "\", address = \"nohost\" }]\n",
                {"p2p.peers[0].address", "is not host:port"});
  for (const char* good : {"a:1", "localhost:65535", "10.0.0.1:00080", "[::1]:80", "[::ffff:10.0.0.1]:8"}) {
    SCOPED_TRACE(good);
    Result<HostPort> parsed = ParseHostPort(good);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(ParseHostPort(FormatHostPort(*parsed)).ok());
  }
  EXPECT_EQ(ParseHostPort("10.0.0.1:00080")->port, 80);
  EXPECT_EQ(ParseHostPort("[::1]:80")->host, "::1");
}

TEST_F(ConfigTest, BadPeersAreRefused) {
  const std::string a(64, 'a');
  ExpectRefused("[p2p]\npeers = [{ key = \"" + a.substr(2) + "\", address = \"a:1\" }]\n",
                {"p2p.peers[0].key", "64 hex digits"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + a + "aa\", address = \"a:1\" }]\n", {"p2p.peers[0].key"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + a.substr(1) + "g\", address = \"a:1\" }]\n", {"p2p.peers[0].key"});
  ExpectRefused("[p2p]\npeers = [{ address = \"a:1\" }]\n", {"p2p.peers[0]", "missing key"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + a + "\" }]\n", {"p2p.peers[0]", "missing address"});
  ExpectRefused("[p2p]\npeers = [{ key = \"" + a + "\", address = \"a:1\" },\n"
                "         { key = \"" + std::string(64, 'A') + "\", address = \"b:2\" }]\n",
                {"config.toml:3", "p2p.peers[1].key", "twice"});
  std::string many = "[p2p]\npeers = [\n";
  for (int i = 0; i <= 1000; ++i) {
    char key[65];
    std::snprintf(key, sizeof key, "%064x", i);
    many += std::string("{ key = \"") + key + "\", address = \"a:1\" },\n";
  }
  ExpectRefused(many + "]\n", {"p2p.peers", "more than 1000"});
}

TEST_F(ConfigTest, ZeroAndAbsurdValuesAreRefused) {
  struct Case {
    const char* key;
    int64_t low_ok, high_ok;
  };
  const Case cases[] = {
      {"consensus.base_timeout_ms", 10, 600'000},     {"consensus.empty_block_interval_ms", 1, 600'000},
      {"consensus.max_block_txs", 1, 10'000},         {"consensus.max_block_bytes", 16 * 1024, 16 * 1024 * 1024},
      {"consensus.max_clock_drift_ms", 1, 3'600'000}, {"mempool.max_txs", 1, 10'000'000},
      {"mempool.max_bytes", 16 * 1024, 16LL << 30},
  };
  for (const Case& c : cases) {
    const std::string key(c.key);
    const std::string section = key.substr(0, key.find('.')), name = key.substr(key.find('.') + 1);
    auto toml = [&](int64_t v) { return "[" + section + "]\n" + name + " = " + std::to_string(v) + "\n"; };
    for (int64_t bad : {int64_t{0}, int64_t{-1}, c.low_ok - 1, c.high_ok + 1, INT64_MAX}) {
      if (bad == c.low_ok - 1 && bad <= 0) continue;  // already covered by 0
      ExpectRefused(toml(bad), {"config.toml:2", key, "must be between"});
    }
    for (int64_t good : {c.low_ok, c.high_ok}) {
      WriteToml(toml(good));
      Result<NodeConfig> loaded = LoadNodeConfig(home_);
      EXPECT_TRUE(loaded.ok()) << key << " = " << good << ": " << loaded.status().ToString();
    }
  }
}

TEST_F(ConfigTest, BadStringsAreRefused) {
  ExpectRefused("[node]\nlog_level = \"verbose\"\n", {"node.log_level", "one of"});
  ExpectRefused("[node]\nlog_level = \"INFO\"\n", {"node.log_level", "one of"});
  ExpectRefused("[node]\nmoniker = \"" + std::string(65, 'm') + "\"\n", {"node.moniker", "at most 64"});
  ExpectRefused("[node]\nmoniker = \"a\\u0001b\"\n", {"node.moniker", "control"});
  ExpectRefused("[node]\ngenesis = \"\"\n", {"node.genesis", "must not be empty"});
  ExpectRefused("[node]\nvalidator_key = \"\"\n", {"node.validator_key", "must not be empty"});
  ExpectRefused("[node]\ndata_dir = \"a\\u0000b\"\n", {"node.data_dir", "NUL"});
  ExpectRefused("[node]\ndata_dir = \"" + std::string(4097, 'd') + "\"\n", {"node.data_dir", "at most 4096"});
}

TEST_F(ConfigTest, WriteRefusesWhatLoadWouldRefuse) {
  auto expect_refused = [&](NodeConfig config, const std::string& key) {
    config.home = home_;
    Status status = WriteNodeConfig(config);
    EXPECT_EQ(status.code(), "CONFIG") << key;
    EXPECT_NE(status.message().find(key), std::string::npos) << status.message();
    EXPECT_FALSE(fs::exists(fs::path(home_) / "config.toml"));
  };
  NodeConfig c;
  c.base_timeout_ms = 0;
  expect_refused(c, "consensus.base_timeout_ms");
  c = {};
  c.mempool_max_bytes = 1;
  expect_refused(c, "mempool.max_bytes");
  c = {};
  c.log_level = "loud";
  expect_refused(c, "node.log_level");
  c = {};
  c.data_dir = "";
  expect_refused(c, "node.data_dir");
  c = {};
  c.p2p_listen.port = 0;
  expect_refused(c, "p2p.listen");
  c = {};
  c.api_listen.host = "bad host";
  expect_refused(c, "api.listen");
  c = {};
  c.peers = {{Key(1), {"a", 1}}, {Key(1), {"b", 2}}};
  expect_refused(c, "p2p.peers");
  c = {};
  c.peers = {{Key(1), {"", 1}}};
  expect_refused(c, "p2p.peers");

  NodeConfig no_home;
  EXPECT_EQ(WriteNodeConfig(no_home).code(), "CONFIG");
  NodeConfig missing_folder;
  missing_folder.home = home_ + "/does/not/exist";
  EXPECT_EQ(WriteNodeConfig(missing_folder).code(), "IO_ERROR");
}

TEST_F(ConfigTest, WrittenFileIsReadableByOthersAndCommented) {
  NodeConfig config;
  config.home = home_;
  ASSERT_TRUE(WriteNodeConfig(config).ok());
  struct stat st {};
  ASSERT_EQ(::stat((fs::path(home_) / "config.toml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::ifstream in(fs::path(home_) / "config.toml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.rfind("# ", 0), 0u);
  for (const char* section : {"[node]", "[p2p]", "[api]", "[consensus]", "[mempool]"}) {
    EXPECT_NE(text.find(section), std::string::npos) << section;
  }
}

}  // namespace
}  // namespace gongshe::node
