#!/usr/bin/env bash
# Law amendments through the CLI alone, against a live devnet: a delegate and members registered
# under it (`gongshe tx register --delegate`), `gongshe propose law` (checked locally first, refused
# for a member), `gongshe vote` by the delegate and an overriding member (a second vote refused),
# `gongshe query proposal` with the running tally and a voter's proof of presence and of absence,
# then the tally when the week closes adopts the law, which `gongshe law show` then shows in force.
# Usage: proposal_test.sh GONGSHE WORK_DIR BASE_PORT   (prints "proposal test passed")
set -euo pipefail
gongshe=$1 work=$2 port=$3
source "$(dirname "$0")/live_devnet.sh"

text() {  # the value of a top-level JSON string field
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}
week() { "$gongshe" query status --node "$node" --json | field week; }

for who in delegate m1 m2 m3; do "$gongshe" key gen --out "$work/$who.key" >/dev/null; done
"$gongshe" tx register --node "$node" --key "$keys/registrar.key" --public-key "$work/delegate.key" --role delegate \
  --wait >/dev/null
for who in m1 m2; do
  "$gongshe" tx register --node "$node" --key "$keys/registrar.key" --public-key "$work/$who.key" --role member \
    --delegate "$work/delegate.key" --wait >/dev/null
done
"$gongshe" tx register --node "$node" --key "$keys/registrar.key" --public-key "$work/m3.key" --role member \
  --wait >/dev/null
# Only a member is registered under a delegate.
if "$gongshe" tx register --node "$node" --key "$keys/registrar.key" --public-key "$work/delegate.key" \
  --role store --delegate "$work/delegate.key" 2>"$work/store.err"; then
  echo "a store was registered under a delegate"; exit 1
fi
grep -q BAD_ARGS "$work/store.err"

cat >"$work/overtime_pay.law" <<'EOF'
law overtime_pay version 3
  "Hours worked beyond the standard week are paid at twice the rate."

§ 1 "The standard week is 40 hours."
param standard_week : hours = 40h

§ 2 "Each hour beyond it is paid at 2 times the rate; labour pay covers the first 1 times."
param premium : ratio = 2

on week_closed(worker: member, week: week, worked: hours, rate: credits per hour)
  let overtime = max(worked - standard_week, 0h)
  when overtime > 0h:
    issue consumption to worker amount overtime * rate * (premium - 1)
      because "overtime {overtime} at {premium}x in {week}"

test "45 hours at rate 1 pay 5 credits on top of labour pay"
  week_closed(@alice, week 3, 45h, 1 credits per hour)
  expects issue consumption to @alice amount 5 credits
EOF
# A module that fails its own test is refused before anything is signed.
sed 's/amount 5 credits/amount 4 credits/' "$work/overtime_pay.law" >"$work/wrong.law"
closes=$(($(week) + 2))
if "$gongshe" propose law "$work/wrong.law" --closes-week "$closes" --node "$node" --key "$work/delegate.key" \
  2>"$work/wrong.err"; then
  echo "a module failing its own test was proposed"; exit 1
fi
grep -q AMENDMENT_TESTS_FAIL "$work/wrong.err"
# Only a delegate proposes.
if "$gongshe" propose law "$work/overtime_pay.law" --closes-week "$closes" --node "$node" --key "$work/m1.key" \
  2>"$work/member.err"; then
  echo "a member proposed"; exit 1
fi
grep -q UNAUTHORIZED "$work/member.err"

"$gongshe" propose law "$work/overtime_pay.law" --closes-week "$closes" --node "$node" --key "$work/delegate.key" \
  --file-name proposals/overtime_pay.law --json >"$work/proposal.json"
id=$(text id <"$work/proposal.json")
[ ${#id} -eq 64 ]
grep -q '"status":"PROPOSAL_STATUS_OPEN"' "$work/proposal.json"

"$gongshe" vote "$id" yes --node "$node" --key "$work/delegate.key"
"$gongshe" vote "$id" no --node "$node" --key "$work/m1.key"
if "$gongshe" vote "$id" yes --node "$node" --key "$work/m1.key" 2>"$work/again.err"; then
  echo "a member voted twice"; exit 1
fi
grep -q ALREADY_VOTED "$work/again.err"
"$gongshe" vote "$id" yes --node "$node" --key "$work/m3.key"
"$gongshe" query proposal "$id" --node "$node" --json >"$work/open.json"
# The delegate counted m1 and m2; m1's own no replaced it for m1; m3 counts for itself.
[ "$(field yes <"$work/open.json")" = 2 ]
[ "$(field no <"$work/open.json")" = 1 ]
[ "$(field votes <"$work/open.json")" = 3 ]
"$gongshe" query proposal "$id" --node "$node" --voter "$work/m1.key" | tee "$work/m1.vote"
grep -q "no, counting 1 member, at height [0-9]* (replacing the delegate's vote for this member)" "$work/m1.vote"
grep -q "verifies against state root" "$work/m1.vote"
"$gongshe" query proposal "$id" --node "$node" --voter "$work/m2.key" | tee "$work/m2.vote"
grep -q "no vote of .* is recorded" "$work/m2.vote"
grep -q "verifies against state root" "$work/m2.vote"
if "$gongshe" query proposal "$(printf '0%.0s' $(seq 64))" --node "$node" 2>"$work/none.err"; then
  echo "a proposal that does not exist was found"; exit 1
fi
grep -q NOT_FOUND "$work/none.err"

# The tally runs in the first block past week $closes.
for _ in $(seq 200); do
  "$gongshe" query proposal "$id" --node "$node" --json >"$work/tallied.json"
  grep -q '"status":"PROPOSAL_STATUS_OPEN"' "$work/tallied.json" || break
  sleep 0.25
done
grep -q '"status":"PROPOSAL_STATUS_ADOPTED"' "$work/tallied.json"
[ "$(field electorate <"$work/tallied.json")" = 3 ]
"$gongshe" query proposal "$id" --node "$node" | tee "$work/tallied.txt"
grep -q "adopted under amendment_tally v1" "$work/tallied.txt"
grep -q "record adopted = true" "$work/tallied.txt"
if "$gongshe" vote "$id" no --node "$node" --key "$work/m2.key" 2>"$work/closed.err"; then
  echo "a vote on a tallied proposal went through"; exit 1
fi
grep -q PROPOSAL_CLOSED "$work/closed.err"
"$gongshe" law show overtime_pay --node "$node" | tee "$work/law.txt"
grep -q "law overtime_pay version 3, in force from height" "$work/law.txt"
grep -q "file        proposals/overtime_pay.law" "$work/law.txt"
echo "proposal test passed"
