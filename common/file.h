#pragma once
// Reading small files whole: configuration, genesis, plans, law sources.

#include <cstdint>
#include <fstream>
#include <string>

#include "common/status.h"

namespace gongshe {

// The whole file at `path`, refused (IO_ERROR, naming the path) when it cannot be read or holds
// more than `max_bytes`, so a wrong path never fills memory.
inline Result<std::string> ReadFileBytes(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status("IO_ERROR", "cannot open " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return Status("IO_ERROR", "cannot read " + path);
  if (static_cast<uint64_t>(size) > max_bytes) {
    return Status("IO_ERROR", path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string data(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(data.data(), size)) return Status("IO_ERROR", "cannot read " + path);
  return data;
}

}  // namespace gongshe
