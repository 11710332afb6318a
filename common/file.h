#pragma once
// Reading small files whole: configuration, genesis, plans, law sources.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/status.h"

namespace gongshe {

// The whole regular file at `path`. Refused, naming the path: NOT_FOUND when it does not exist;
// IO_ERROR when it cannot be read, is not a regular file (a folder, a FIFO that would block), or
// holds more than `max_bytes` (so a wrong path never fills memory).
inline Result<std::string> ReadFileBytes(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return Status("NOT_FOUND", "no such file: " + path);
    return Status("IO_ERROR", "cannot open " + path + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status("IO_ERROR", "cannot stat " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status("IO_ERROR", path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status("IO_ERROR", path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string contents(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::read(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status("IO_ERROR", "cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(n);
  }
  contents.resize(done);
  return contents;
}

}  // namespace gongshe
