#pragma once
// How the laws' runs read for a person: what each law did, in a line per effect, and why (the
// trace), as `gongshe query explain`, `gongshe query tx` and the devnet demo print them.
//
//   overtime_pay v2 on week_closed:
//     + 2.5 consumption credits: overtime 5h at 1.5x in week 3 (overtime_pay v2 §2)
//     why: overtime_pay v2 §2, on week_closed (contracts/laws/overtime_pay.law:13): ...

#include <string>
#include <string_view>
#include <vector>

#include "gongshe/v1/state.pb.h"

namespace gongshe::node {

// The lines for `runs`, each indented by `indent` spaces. A run that failed says so and why;
// its issues were not applied. `member_hex`, when given, is written "you" in effects.
std::vector<std::string> LawRunLines(const google::protobuf::RepeatedPtrField<v1::LawRun>& runs, bool with_trace,
                                     std::string_view member_hex = {}, int indent = 2);

// "2.5" for 2500 milli-credits: credits without trailing zeros.
std::string CreditsText(int64_t milli);

}  // namespace gongshe::node
