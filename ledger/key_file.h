#pragma once
// Key files on disk. A key file holds one Ed25519 key pair as protobuf JSON (gongshe.v1.KeyFile).
// Like ssh, a key file must be readable by its owner only: it is written with mode 0600 and a
// file whose permissions are wider is refused. Writes are atomic (temp file in the same directory,
// fsync, rename, fsync of the directory), so a crash never leaves a half-written key behind.
//
// Error codes (Status::code()): KEY_FILE_NOT_FOUND, KEY_FILE_IO, KEY_FILE_PERMISSIONS,
// KEY_FILE_TOO_LARGE, KEY_FILE_MALFORMED, KEY_FILE_UNSUPPORTED, KEY_FILE_MISMATCH, KEY_FILE_EXISTS.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ledger/crypto.h"

namespace gongshe::ledger {

inline constexpr uint32_t kKeyFileVersion = 1;
inline constexpr std::string_view kKeyTypeEd25519 = "ed25519";
// Bigger files are refused unread: a real key file is ~200 bytes.
inline constexpr size_t kMaxKeyFileSize = 64 * 1024;

enum class IfExists { kFail, kReplace };

// Writes `key` to `path` with mode 0600. With IfExists::kFail an existing file is left untouched
// and KEY_FILE_EXISTS is returned (checked atomically, not by a racy stat).
Status WriteKeyFile(const std::string& path, const KeyPair& key, IfExists if_exists = IfExists::kFail);

// Reads and fully validates a key file: regular file, owner-only permissions, size bound, strict
// JSON (unknown fields rejected), version, key type, field lengths, and that the public key is the
// one derived from the seed.
Result<KeyPair> ReadKeyFile(const std::string& path);

// A public key as 64 lower-case hex digits, and back (surrounding whitespace allowed).
std::string PublicKeyToHex(const PublicKey& key);
Result<PublicKey> PublicKeyFromHex(std::string_view hex);

// A public key file: the hex form and a newline, mode 0644, written atomically like a key file.
Status WritePublicKeyFile(const std::string& path, const PublicKey& key,
                          IfExists if_exists = IfExists::kFail);
Result<PublicKey> ReadPublicKeyFile(const std::string& path);

}  // namespace gongshe::ledger
