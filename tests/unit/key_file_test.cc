#include "ledger/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "gongshe/v1/keys.pb.h"

namespace gongshe::ledger {
namespace {

namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "gongshe-keyfile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static void WriteRaw(const std::string& path, const std::string& contents, mode_t mode = 0600) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << contents;
      ASSERT_TRUE(out.good());
    }
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  static std::string ReadRaw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static mode_t Mode(const std::string& path) {
    struct stat st;
    GS_ASSERT(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  }

  // A valid KeyFile message for `key`, to be broken one field at a time.
  static gongshe::v1::KeyFile Message(const KeyPair& key) {
    gongshe::v1::KeyFile m;
    m.set_version(kKeyFileVersion);
    m.set_key_type("ed25519");
    m.set_public_key(std::string(AsChars(key.public_key())));
    m.set_seed(std::string(AsChars(key.seed())));
    return m;
  }

  static std::string Json(const gongshe::v1::KeyFile& m) {
    std::string json;
    GS_ASSERT(google::protobuf::util::MessageToJsonString(m, &json).ok());
    return json;
  }

  void ExpectReadFails(const std::string& contents, const std::string& code) {
    const std::string path = Path("k.json");
    fs::remove(path);
    WriteRaw(path, contents);
    const Result<KeyPair> r = ReadKeyFile(path);
    ASSERT_FALSE(r.ok()) << contents;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
  }

  size_t EntriesInDir() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  fs::path dir_;
};

TEST_F(KeyFileTest, WriteThenReadRoundTrip) {
  const KeyPair key = KeyPair::Generate();
  const std::string path = Path("validator.key");
  ASSERT_TRUE(WriteKeyFile(path, key).ok());
  const Result<KeyPair> read = ReadKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->public_key(), key.public_key());
  EXPECT_EQ(ToHex(read->seed()), ToHex(key.seed()));
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(EntriesInDir(), 1u);  // no temp file left behind
  EXPECT_NE(ReadRaw(path).find("\"ed25519\""), std::string::npos);
}

TEST_F(KeyFileTest, ModeIs0600EvenWithPermissiveUmask) {
  const mode_t old = ::umask(0);
  const Status s = WriteKeyFile(Path("a.key"), KeyPair::Generate());
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Mode(Path("a.key")), 0600u);
}

TEST_F(KeyFileTest, RefusesToOverwriteUnlessAsked) {
  const KeyPair first = KeyPair::Generate(), second = KeyPair::Generate();
  const std::string path = Path("k.key");
  ASSERT_TRUE(WriteKeyFile(path, first).ok());
  const std::string before = ReadRaw(path);
  const Status s = WriteKeyFile(path, second);
  EXPECT_EQ(s.code(), "KEY_FILE_EXISTS");
  EXPECT_EQ(ReadRaw(path), before);
  EXPECT_EQ(EntriesInDir(), 1u);
  ASSERT_TRUE(WriteKeyFile(path, second, IfExists::kReplace).ok());
  EXPECT_EQ(ReadKeyFile(path)->public_key(), second.public_key());
  EXPECT_EQ(EntriesInDir(), 1u);
}

TEST_F(KeyFileTest, WriteErrors) {
  EXPECT_FALSE(WriteKeyFile(Path("no-such-dir/k.key"), KeyPair::Generate()).ok());
  EXPECT_EQ(WriteKeyFile(dir_.string() + "/", KeyPair::Generate()).code(), "KEY_FILE_IO");
  EXPECT_EQ(EntriesInDir(), 0u);
}

TEST_F(KeyFileTest, WriteIntoCurrentDirectoryWithBareName) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  const Status s = WriteKeyFile("bare.key", KeyPair::Generate());
  fs::current_path(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ReadKeyFile(Path("bare.key")).ok());
}

TEST_F(KeyFileTest, MissingFile) {
  const Result<KeyPair> r = ReadKeyFile(Path("absent.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "KEY_FILE_NOT_FOUND");
}

TEST_F(KeyFileTest, DirectoryIsNotAKeyFile) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  const Result<KeyPair> r = ReadKeyFile(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "KEY_FILE_IO");
}

TEST_F(KeyFileTest, PathThroughAFileIsAnIoError) {
  const std::string file = Path("plain");
  WriteRaw(file, "x");
  const Result<KeyPair> r = ReadKeyFile(file + "/k.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "KEY_FILE_IO");
  EXPECT_EQ(WriteKeyFile(file + "/k.key", KeyPair::Generate()).code(), "KEY_FILE_IO");
}

TEST_F(KeyFileTest, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string path = Path("k.key");
  ASSERT_TRUE(WriteKeyFile(path, KeyPair::Generate()).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0000), 0);
  const Result<KeyPair> r = ReadKeyFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "KEY_FILE_IO");
}

TEST_F(KeyFileTest, PermissionsWiderThan0600AreRefused) {
  const std::string path = Path("k.key");
  ASSERT_TRUE(WriteKeyFile(path, KeyPair::Generate()).ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0777}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    const Result<KeyPair> r = ReadKeyFile(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), "KEY_FILE_PERMISSIONS");
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status().message();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_NE(ReadKeyFile(path).status().message().find("0644"), std::string::npos);
  // Narrower than 0600 is fine.
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadKeyFile(path).ok());
}

TEST_F(KeyFileTest, NotJson) {
  ExpectReadFails("", "KEY_FILE_MALFORMED");
  ExpectReadFails("hello", "KEY_FILE_MALFORMED");
  ExpectReadFails("[]", "KEY_FILE_MALFORMED");
  ExpectReadFails("{\"version\": 1,", "KEY_FILE_MALFORMED");
  ExpectReadFails(std::string("\0\1\2", 3), "KEY_FILE_MALFORMED");
}

TEST_F(KeyFileTest, UnknownFieldIsRejected) {
  std::string json = Json(Message(KeyPair::Generate()));
  json.insert(1, "\"comment\": \"x\",");
  ExpectReadFails(json, "KEY_FILE_MALFORMED");
}

TEST_F(KeyFileTest, WrongVersionOrKeyType) {
  const KeyPair key = KeyPair::Generate();
  for (uint32_t version : {0u, 2u, 0xffffffffu}) {
    gongshe::v1::KeyFile m = Message(key);
    m.set_version(version);
    ExpectReadFails(Json(m), "KEY_FILE_UNSUPPORTED");
  }
  for (const char* type : {"", "rsa", "ED25519", "ed25519 "}) {
    gongshe::v1::KeyFile m = Message(key);
    m.set_key_type(type);
    ExpectReadFails(Json(m), "KEY_FILE_UNSUPPORTED");
  }
}

TEST_F(KeyFileTest, WrongLengths) {
  const KeyPair key = KeyPair::Generate();
  for (size_t n : {0, 31, 33, 64}) {
    gongshe::v1::KeyFile m = Message(key);
    m.set_seed(std::string(n, 'x'));
    ExpectReadFails(Json(m), "KEY_FILE_MALFORMED");
    m = Message(key);
    m.set_public_key(std::string(n, 'x'));
    ExpectReadFails(Json(m), "KEY_FILE_MALFORMED");
  }
}

TEST_F(KeyFileTest, PublicKeyNotDerivedFromSeed) {
  gongshe::v1::KeyFile m = Message(KeyPair::Generate());
  m.set_public_key(std::string(AsChars(KeyPair::Generate().public_key())));
  ExpectReadFails(Json(m), "KEY_FILE_MISMATCH");
}

TEST_F(KeyFileTest, OversizedFile) {
  // Exactly at the bound it is read (and found not to be JSON); one byte over, it is not read.
  ExpectReadFails(std::string(kMaxKeyFileSize, ' ') + "x", "KEY_FILE_TOO_LARGE");
  ExpectReadFails(std::string(kMaxKeyFileSize - 1, ' ') + "x", "KEY_FILE_MALFORMED");
  // A valid key padded with whitespace up to the bound still reads.
  const KeyPair key = KeyPair::Generate();
  const std::string json = Json(Message(key));
  const std::string path = Path("padded.key");
  WriteRaw(path, json + std::string(kMaxKeyFileSize - json.size(), ' '));
  const Result<KeyPair> r = ReadKeyFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->public_key(), key.public_key());
}

TEST_F(KeyFileTest, PublicKeyHex) {
  const PublicKey key = KeyPair::Generate().public_key();
  const std::string hex = PublicKeyToHex(key);
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(*PublicKeyFromHex(hex), key);
  EXPECT_EQ(*PublicKeyFromHex(" \n" + hex + "\r\n"), key);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(*PublicKeyFromHex(upper), key);
  for (const std::string& bad : {std::string(), std::string("  "), hex.substr(1), hex + "00",
                                 hex.substr(0, 62), "zz" + hex.substr(2), hex.substr(0, 32) + " " + hex.substr(32)}) {
    const Result<PublicKey> r = PublicKeyFromHex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), "BAD_PUBLIC_KEY");
  }
}

TEST_F(KeyFileTest, PublicKeyFile) {
  const PublicKey key = KeyPair::Generate().public_key();
  const std::string path = Path("validator.pub");
  ASSERT_TRUE(WritePublicKeyFile(path, key).ok());
  EXPECT_EQ(Mode(path), 0644u);
  EXPECT_EQ(ReadRaw(path), PublicKeyToHex(key) + "\n");
  EXPECT_EQ(*ReadPublicKeyFile(path), key);
  EXPECT_EQ(WritePublicKeyFile(path, key).code(), "KEY_FILE_EXISTS");
  EXPECT_EQ(ReadPublicKeyFile(Path("absent.pub")).status().code(), "KEY_FILE_NOT_FOUND");
  WriteRaw(path, "not hex\n", 0644);
  EXPECT_EQ(ReadPublicKeyFile(path).status().code(), "KEY_FILE_MALFORMED");
  WriteRaw(path, std::string(kMaxKeyFileSize + 1, 'a'), 0644);
  EXPECT_EQ(ReadPublicKeyFile(path).status().code(), "KEY_FILE_TOO_LARGE");
}

}  // namespace
}  // namespace gongshe::ledger
