#include "node/law_text.h"

#include <cstdlib>

namespace gongshe::node {
namespace {

std::string ClassName(v1::VoucherClass c) {
  switch (c) {
    case v1::VOUCHER_CLASS_GUARANTEE: return "guarantee";
    case v1::VOUCHER_CLASS_CONSUMPTION: return "consumption";
    case v1::VOUCHER_CLASS_SPECIAL: return "special";
    default: return "unknown";
  }
}

std::string YouFor(std::string text, std::string_view member_hex) {
  if (member_hex.empty()) return text;
  const std::string id = "@" + std::string(member_hex);
  for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + 3)) text.replace(at, id.size(), "you");
  return text;
}

}  // namespace

std::string CreditsText(int64_t milli) {
  const uint64_t magnitude = milli < 0 ? 0 - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  std::string out = (milli < 0 ? "-" : "") + std::to_string(magnitude / 1000);
  uint64_t fraction = magnitude % 1000;
  if (fraction == 0) return out;
  std::string digits = std::to_string(1000 + fraction).substr(1);
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

std::vector<std::string> LawRunLines(const google::protobuf::RepeatedPtrField<v1::LawRun>& runs, bool with_trace,
                                     std::string_view member_hex, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::vector<std::string> lines;
  for (const v1::LawRun& run : runs) {
    const bool applied = run.code() == "OK";
    lines.push_back(pad + run.law() + " on " + run.hook() + (applied ? ":" : ": NOT APPLIED, " + run.code()));
    if (!applied && !run.message().empty()) lines.push_back(pad + "  " + YouFor(run.message(), member_hex));
    for (const v1::LawIssue& issue : run.issues()) {
      std::string to = member_hex.empty() || issue.member() == member_hex ? "" : " to @" + issue.member();
      lines.push_back(pad + "  + " + CreditsText(issue.amount_milli()) + " " + ClassName(issue.voucher_class()) +
                      " credits" + to + ": " + issue.reason() + " (" + issue.citation() + ")");
    }
    for (const std::string& effect : run.effects()) {
      if (effect.starts_with("issue ")) continue;  // shown above
      lines.push_back(pad + "  " + YouFor(effect, member_hex));
    }
    if (!with_trace || run.trace().empty()) continue;
    for (int i = 0; i < run.trace_size(); ++i) {
      lines.push_back(pad + (i == 0 ? "  why: " : "       ") + YouFor(run.trace(i), member_hex));
    }
  }
  return lines;
}

}  // namespace gongshe::node
