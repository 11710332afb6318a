// node/devnet.h, InitNetwork and LoadNetwork: what `gongshe init` writes and what it refuses.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "contracts/standard_laws.h"
#include "ledger/genesis.h"
#include "ledger/laws.h"
#include "ledger/key_file.h"
#include "node/config.h"
#include "node/devnet.h"

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string Raw(const ledger::PublicKey& key) { return std::string(AsChars(key)); }

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "gongshe-init-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/net";
  }
  void TearDown() override { fs::remove_all(root_); }

  InitOptions Options(uint32_t validators) {
    InitOptions options;
    options.dir = dir_;
    options.validators = validators;
    options.base_port = 31000;
    options.devnet = true;
    options.genesis_time_ms = 1'767'225'600'000;
    return options;
  }

  std::string root_, dir_;
};

uint32_t Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST_F(InitTest, WritesAGenesisKeysAndConfigsThatFitTogether) {
  constexpr uint32_t kN = 4;
  Result<Network> network = InitNetwork(Options(kN));
  ASSERT_TRUE(network.ok()) << network.status().ToString();

  const std::string json = ReadAll(fs::path(dir_) / "genesis.json");
  Result<ledger::GenesisDoc> doc = ledger::ParseGenesis(json);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const v1::Genesis& genesis = doc->genesis;
  EXPECT_EQ(doc->hash, network->genesis_hash);
  EXPECT_EQ(genesis.chain_id(), "gongshe-devnet");
  EXPECT_EQ(genesis.genesis_time_ms(), 1'767'225'600'000);
  EXPECT_EQ(genesis.week_ms(), kDevnetWeekMs);
  EXPECT_EQ(genesis.epoch_ms(), kDevnetEpochMs);
  // The standard laws are in force from genesis, with the standard parameters.
  ASSERT_EQ(static_cast<size_t>(genesis.laws_size()), contracts::StandardLaws().size());
  EXPECT_EQ(genesis.laws(0).file(), "contracts/laws/amendment_tally.law");
  EXPECT_EQ(genesis.laws(3).file(), "contracts/laws/labour_pay.law");
  EXPECT_EQ(genesis.laws(3).source(), contracts::StandardLaws()[3].source);
  EXPECT_EQ(genesis.law_params().labour_rate_milli_per_hour(), ledger::kStandardLabourRateMilli);
  EXPECT_EQ(genesis.law_params().fuel_per_run(), ledger::kStandardFuelPerRun);
  ASSERT_EQ(genesis.communes_size(), static_cast<int>(kN));
  EXPECT_EQ(network->dir, dir_);
  EXPECT_EQ(network->genesis_path, dir_ + "/genesis.json");
  ASSERT_EQ(network->nodes.size(), kN);

  std::set<uint16_t> ports;
  for (uint32_t i = 0; i < kN; ++i) {
    SCOPED_TRACE(i);
    const v1::Commune& commune = genesis.communes(static_cast<int>(i));
    const fs::path home = fs::path(dir_) / ("node" + std::to_string(i));
    EXPECT_EQ(network->nodes[i].home, home.string());
    EXPECT_TRUE(fs::is_directory(home / "data"));
    EXPECT_EQ(Mode(home / "keys"), 0700u);

    const std::pair<const char*, const std::string*> keys[] = {{"keys/validator.key", &commune.validator()},
                                                               {kRegistrarKeyFile, &commune.registrar()},
                                                               {kIssuerKeyFile, &commune.issuer()}};
    for (const auto& [file, expected] : keys) {
      EXPECT_EQ(Mode(home / file), 0600u) << file;
      Result<ledger::KeyPair> key = ledger::ReadKeyFile((home / file).string());
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      EXPECT_EQ(Raw(key->public_key()), *expected) << file;
    }
    EXPECT_EQ(Raw(network->nodes[i].validator), commune.validator());
    EXPECT_EQ(Raw(network->nodes[i].registrar), commune.registrar());
    EXPECT_EQ(Raw(network->nodes[i].issuer), commune.issuer());

    Result<NodeConfig> config = LoadNodeConfig(home.string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->GenesisPath(), network->genesis_path);
    EXPECT_EQ(config->ValidatorKeyPath(), (home / "keys/validator.key").string());
    EXPECT_EQ(config->DataPath(), (home / "data").string());
    EXPECT_EQ(config->moniker, "node" + std::to_string(i));
    EXPECT_EQ(FormatHostPort(config->p2p_listen), "127.0.0.1:" + std::to_string(31000 + 2 * i));
    EXPECT_EQ(FormatHostPort(config->api_listen), "127.0.0.1:" + std::to_string(31000 + 2 * i + 1));
    ports.insert(config->p2p_listen.port);
    ports.insert(config->api_listen.port);

    // Peers: every other validator, by its genesis key, at its p2p address.
    ASSERT_EQ(config->peers.size(), kN - 1);
    std::set<uint32_t> seen;
    for (const PeerConfig& peer : config->peers) {
      uint32_t other = kN;
      for (uint32_t n = 0; n < kN; ++n) {
        if (Raw(peer.key) == genesis.communes(static_cast<int>(n)).validator()) other = n;
      }
      ASSERT_LT(other, kN) << "a peer key that is no validator";
      EXPECT_NE(other, i) << "a node lists itself as a peer";
      EXPECT_EQ(FormatHostPort(peer.address), "127.0.0.1:" + std::to_string(31000 + 2 * other));
      seen.insert(other);
    }
    EXPECT_EQ(seen.size(), kN - 1);
  }
  EXPECT_EQ(ports.size(), 2 * kN);

  // Read back from disk, the network is the same.
  Result<Network> loaded = LoadNetwork(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(NetworkToJson(*loaded), NetworkToJson(*network));
}

TEST_F(InitTest, JsonSummaryParsesAndNamesEveryNode) {
  Result<Network> network = InitNetwork(Options(2));
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  google::protobuf::Struct summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(NetworkToJson(*network), &summary).ok());
  const auto& fields = summary.fields();
  EXPECT_EQ(fields.at("chain_id").string_value(), "gongshe-devnet");
  EXPECT_EQ(fields.at("genesis_hash").string_value(), ToHex(network->genesis_hash));
  EXPECT_EQ(fields.at("week_ms").number_value(), kDevnetWeekMs);
  const auto& nodes = fields.at("nodes").list_value().values();
  ASSERT_EQ(nodes.size(), 2);
  EXPECT_EQ(nodes[1].struct_value().fields().at("api").string_value(), "127.0.0.1:31003");
  EXPECT_EQ(nodes[1].struct_value().fields().at("validator").string_value(),
            ledger::PublicKeyToHex(network->nodes[1].validator));
}

TEST_F(InitTest, RealCalendarAndDefaultsWithoutDevnet) {
  InitOptions options = Options(1);
  options.devnet = false;
  options.genesis_time_ms.reset();
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  Result<Network> network = InitNetwork(options);
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  const int64_t after = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_EQ(network->chain_id, "gongshe-1");
  EXPECT_EQ(network->week_ms, 7 * 24 * 3600 * 1000LL);
  EXPECT_EQ(network->epoch_ms, 30 * 24 * 3600 * 1000LL);
  EXPECT_GE(network->genesis_time_ms, before);
  EXPECT_LE(network->genesis_time_ms, after);
  Result<NodeConfig> config = LoadNodeConfig(dir_ + "/node0");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->peers.empty());
}

TEST_F(InitTest, SixtyFourValidatorsAndACustomChainId) {
  InitOptions options = Options(kMaxInitValidators);
  options.chain_id = "my-chain.7";
  options.base_port = 65536 - 2 * kMaxInitValidators;  // the last port is 65535
  Result<Network> network = InitNetwork(options);
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  EXPECT_EQ(network->chain_id, "my-chain.7");
  EXPECT_EQ(network->nodes.back().api.port, 65535);
  Result<Network> loaded = LoadNetwork(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->nodes.size(), kMaxInitValidators);
  EXPECT_EQ(loaded->nodes[17].p2p.port, options.base_port + 34);
}

TEST_F(InitTest, BadOptionsAreRefusedBeforeAnythingIsWritten) {
  auto expect_refused = [&](InitOptions options, const std::string& words) {
    Result<Network> network = InitNetwork(options);
    ASSERT_FALSE(network.ok()) << words;
    EXPECT_EQ(network.status().code(), "INIT");
    EXPECT_NE(network.status().message().find(words), std::string::npos) << network.status().message();
    EXPECT_FALSE(fs::exists(dir_));
  };
  InitOptions o = Options(0);
  expect_refused(o, "between 1 and 64");
  o = Options(kMaxInitValidators + 1);
  expect_refused(o, "between 1 and 64");
  o = Options(4);
  o.base_port = 0;
  expect_refused(o, "--base-port");
  o.base_port = 65529;  // 65529 + 7 = 65536
  expect_refused(o, "--base-port");
  o = Options(4);
  o.chain_id = "Bad Chain";
  expect_refused(o, "chain_id");
  o.chain_id = std::string(65, 'a');
  expect_refused(o, "chain_id");
  o = Options(4);
  o.genesis_time_ms = -1;
  expect_refused(o, "negative");
  o = Options(4);
  o.dir = "";
  expect_refused(o, "--dir");
  o = Options(4);
  o.log_level = "loud";
  expect_refused(o, "log level");
}

TEST_F(InitTest, LogLevelGoesIntoEveryConfig) {
  InitOptions options = Options(2);
  options.log_level = "debug";
  ASSERT_TRUE(InitNetwork(options).ok());
  for (const char* home : {"/node0", "/node1"}) {
    Result<NodeConfig> config = LoadNodeConfig(dir_ + home);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->log_level, "debug");
  }
}

TEST_F(InitTest, RefusesAnExistingNetworkUnlessForced) {
  ASSERT_TRUE(InitNetwork(Options(3)).ok());
  const std::string genesis_before = ReadAll(fs::path(dir_) / "genesis.json");
  const std::string key_before = ReadAll(fs::path(dir_) / "node0/keys/validator.key");
  std::ofstream(fs::path(dir_) / "node0/data/LOCK") << "old";

  Result<Network> again = InitNetwork(Options(3));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), "EXISTS");
  EXPECT_NE(again.status().message().find("genesis.json"), std::string::npos) << again.status().message();
  EXPECT_NE(again.status().message().find("--force"), std::string::npos) << again.status().message();
  EXPECT_EQ(ReadAll(fs::path(dir_) / "genesis.json"), genesis_before);
  EXPECT_EQ(ReadAll(fs::path(dir_) / "node0/keys/validator.key"), key_before);

  InitOptions forced = Options(2);
  forced.force = true;
  Result<Network> replaced = InitNetwork(forced);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_NE(ReadAll(fs::path(dir_) / "genesis.json"), genesis_before);
  EXPECT_NE(ReadAll(fs::path(dir_) / "node0/keys/validator.key"), key_before);
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "node0/data/LOCK")) << "old chain data would not match the new genesis";
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "node2")) << "the replaced network's third home";
  ASSERT_TRUE(LoadNetwork(dir_).ok());
}

TEST_F(InitTest, RefusesAFolderWithAHomeButNoGenesis) {
  fs::create_directories(fs::path(dir_) / "node2");
  Result<Network> network = InitNetwork(Options(3));
  ASSERT_FALSE(network.ok());
  EXPECT_EQ(network.status().code(), "EXISTS");
  EXPECT_NE(network.status().message().find("node2"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "node0")) << "nothing is written when init refuses";
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "genesis.json"));
  // A folder with unrelated files is fine.
  fs::remove(fs::path(dir_) / "node2");
  std::ofstream(fs::path(dir_) / "README") << "mine";
  EXPECT_TRUE(InitNetwork(Options(3)).ok());
  EXPECT_EQ(ReadAll(fs::path(dir_) / "README"), "mine");
}

TEST_F(InitTest, LoadNetworkRefusesInconsistentFolders) {
  Result<Network> missing = LoadNetwork(dir_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), "NETWORK");
  EXPECT_NE(missing.status().message().find("genesis.json"), std::string::npos);

  ASSERT_TRUE(InitNetwork(Options(2)).ok());
  // Node 0's validator key replaced by node 1's: the node would sign as another commune.
  fs::copy_file(fs::path(dir_) / "node1/keys/validator.key", fs::path(dir_) / "node0/keys/validator.key",
                fs::copy_options::overwrite_existing);
  Result<Network> swapped = LoadNetwork(dir_);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().code(), "NETWORK");
  EXPECT_NE(swapped.status().message().find("commune-0"), std::string::npos) << swapped.status().message();

  fs::remove(fs::path(dir_) / "node1/config.toml");
  fs::remove(fs::path(dir_) / "node0/keys/validator.key");
  Result<Network> no_key = LoadNetwork(dir_);
  EXPECT_EQ(no_key.status().code(), "KEY_FILE_NOT_FOUND");
  InitOptions forced = Options(2);
  forced.force = true;
  ASSERT_TRUE(InitNetwork(forced).ok());
  fs::remove(fs::path(dir_) / "node1/config.toml");
  EXPECT_EQ(LoadNetwork(dir_).status().code(), "CONFIG");

  std::ofstream(fs::path(dir_) / "genesis.json") << "{\"version\": 1}";
  EXPECT_EQ(LoadNetwork(dir_).status().code(), "BAD_GENESIS");
}

}  // namespace
}  // namespace gongshe::node
