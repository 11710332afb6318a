#include "ledger/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "gongshe/v1/keys.pb.h"

namespace gongshe::ledger {
namespace {

constexpr mode_t kKeyFileMode = 0600;
constexpr mode_t kPublicKeyFileMode = 0644;

Status ErrnoError(std::string_view what, const std::string& path, int error) {
  return Status(error == ENOENT ? "KEY_FILE_NOT_FOUND" : "KEY_FILE_IO",
                std::string(what) + " '" + path + "': " + std::strerror(error));
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// A string holding secret material, wiped when it goes away (best effort: copies made by
// libraries it passes through are out of reach).
struct SecretString {
  std::string text;
  ~SecretString() { sodium_memzero(text.data(), text.size()); }
};

// Closes a file descriptor on scope exit unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir, errno);
  FdCloser closer(fd);
  if (::fsync(fd) != 0) return ErrnoError("cannot sync directory", dir, errno);
  return Status::Ok();
}

// Writes `contents` to a fresh temp file next to `path` (created 0600, then set to `mode`),
// syncs it, and renames it over `path` (or, with kFail, only if nothing is there).
Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode,
                           IfExists if_exists) {
  const std::filesystem::path target(path);
  if (!target.has_filename()) return Status("KEY_FILE_IO", "'" + path + "' is not a file path");
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string temp = (std::filesystem::path(dir) / ("." + target.filename().string() + ".tmp-XXXXXX"));
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot create a temporary file in directory", dir, errno);
  FdCloser closer(fd);
  Status status = [&]() -> Status {
    if (::fchmod(fd, mode) != 0) return ErrnoError("cannot set permissions of", temp, errno);
    GS_RETURN_IF_ERROR(WriteAll(fd, contents, temp));
    if (::fsync(fd) != 0) return ErrnoError("cannot sync", temp, errno);
    if (::close(closer.Release()) != 0) return ErrnoError("cannot close", temp, errno);
    const int renamed = if_exists == IfExists::kReplace
                            ? ::rename(temp.c_str(), path.c_str())
                            : ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && errno == EEXIST) {
      return Status("KEY_FILE_EXISTS", "'" + path + "' already exists; refusing to overwrite it");
    }
    if (renamed != 0) return ErrnoError("cannot create", path, errno);
    return Status::Ok();
  }();
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncDirectory(dir);
}

// Reads a regular file of at most kMaxKeyFileSize bytes. With `owner_only`, refuses a file that
// group or others may access, the way ssh refuses a private key.
Status ReadBoundedFile(const std::string& path, bool owner_only, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Status("KEY_FILE_IO", "'" + path + "' is not a regular file");
  if (owner_only && (st.st_mode & 077) != 0) {
    return Status("KEY_FILE_PERMISSIONS",
                  "permissions " + OctalMode(st.st_mode) + " for '" + path +
                      "' are too open: a key file must be accessible by its owner only. Fix with: "
                      "chmod 600 '" + path + "'");
  }
  const Status too_large("KEY_FILE_TOO_LARGE", "'" + path + "' is larger than " +
                                                   std::to_string(kMaxKeyFileSize) +
                                                   " bytes; it is not a key file");
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileSize) return too_large;
  // The file may grow after fstat: read at most one byte past the bound to notice.
  out->assign(kMaxKeyFileSize + 1, '\0');
  size_t size = 0;
  while (size < out->size()) {
    const ssize_t n = ::read(fd, out->data() + size, out->size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read", path, errno);
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  if (size > kMaxKeyFileSize) return too_large;
  out->resize(size);
  return Status::Ok();
}

}  // namespace

Status WriteKeyFile(const std::string& path, const KeyPair& key, IfExists if_exists) {
  gongshe::v1::KeyFile file;
  file.set_version(kKeyFileVersion);
  file.set_key_type(std::string(kKeyTypeEd25519));
  file.set_public_key(std::string(AsChars(key.public_key())));
  file.set_seed(std::string(AsChars(key.seed())));
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  SecretString json;
  const auto printed = google::protobuf::util::MessageToJsonString(file, &json.text, options);
  sodium_memzero(file.mutable_seed()->data(), file.seed().size());
  GS_ASSERT(printed.ok());  // a message with only scalar fields always prints
  return WriteFileAtomically(path, json.text, kKeyFileMode, if_exists);
}

Result<KeyPair> ReadKeyFile(const std::string& path) {
  SecretString json;
  GS_RETURN_IF_ERROR(ReadBoundedFile(path, /*owner_only=*/true, &json.text));
  gongshe::v1::KeyFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json.text, &file, options);
  struct SeedWiper {
    gongshe::v1::KeyFile* file;
    ~SeedWiper() { sodium_memzero(file->mutable_seed()->data(), file->seed().size()); }
  } wiper{&file};
  if (!parsed.ok()) {
    return Status("KEY_FILE_MALFORMED", "'" + path + "' is not a key file (protobuf JSON expected): " +
                                            std::string(parsed.message()));
  }
  if (file.version() != kKeyFileVersion) {
    return Status("KEY_FILE_UNSUPPORTED", "'" + path + "' has key file version " +
                                              std::to_string(file.version()) + "; this program reads version " +
                                              std::to_string(kKeyFileVersion));
  }
  if (file.key_type() != kKeyTypeEd25519) {
    return Status("KEY_FILE_UNSUPPORTED", "'" + path + "' has key type '" + file.key_type() +
                                              "'; only '" + std::string(kKeyTypeEd25519) + "' is supported");
  }
  if (file.seed().size() != 32 || file.public_key().size() != PublicKey().size()) {
    return Status("KEY_FILE_MALFORMED", "'" + path + "' must hold a 32-byte seed and a 32-byte public key, not " +
                                            std::to_string(file.seed().size()) + " and " +
                                            std::to_string(file.public_key().size()) + " bytes");
  }
  const KeyPair key = KeyPair::FromSeed(std::span<const uint8_t, 32>(
      reinterpret_cast<const uint8_t*>(file.seed().data()), 32));
  if (AsChars(key.public_key()) != file.public_key()) {
    return Status("KEY_FILE_MISMATCH",
                  "'" + path + "' is corrupt: its public key is not the one derived from its seed");
  }
  return key;
}

std::string PublicKeyToHex(const PublicKey& key) { return ToHex(key); }

Result<PublicKey> PublicKeyFromHex(std::string_view hex) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = hex.find_first_not_of(kSpace);
  hex = begin == std::string_view::npos ? std::string_view() : hex.substr(begin, hex.find_last_not_of(kSpace) + 1 - begin);
  const std::optional<Bytes> bytes = FromHex(hex);
  const std::optional<PublicKey> key = bytes ? PublicKeyFromBytes(*bytes) : std::nullopt;
  if (!key) return Status("BAD_PUBLIC_KEY", "a public key is 64 hex digits");
  return *key;
}

Status WritePublicKeyFile(const std::string& path, const PublicKey& key, IfExists if_exists) {
  return WriteFileAtomically(path, PublicKeyToHex(key) + "\n", kPublicKeyFileMode, if_exists);
}

Result<PublicKey> ReadPublicKeyFile(const std::string& path) {
  std::string text;
  GS_RETURN_IF_ERROR(ReadBoundedFile(path, /*owner_only=*/false, &text));
  Result<PublicKey> key = PublicKeyFromHex(text);
  if (!key.ok()) {
    return Status("KEY_FILE_MALFORMED", "'" + path + "' is not a public key file: " + key.status().message());
  }
  return key;
}

}  // namespace gongshe::ledger
