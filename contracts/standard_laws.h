#pragma once
// The standard laws (contracts/laws/*.law), compiled into the binary byte for byte, so that
// `gongshe init`, the devnet, the tests and the benchmarks put exactly these texts into a genesis
// wherever they run. Generated at build time by contracts/embed_laws.cmake.

#include <span>
#include <string_view>

namespace gongshe::contracts {

struct StandardLaw {
  std::string_view file;    // "contracts/laws/overtime_pay.law"
  std::string_view source;  // the file's text
};

// Every standard law, in file-name order.
std::span<const StandardLaw> StandardLaws();

}  // namespace gongshe::contracts
