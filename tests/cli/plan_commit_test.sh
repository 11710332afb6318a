#!/usr/bin/env bash
# Plans on a ledger through the CLI alone, against a live devnet: redemptions make the demand,
# `gongshe plan upload` sends the inputs, `gongshe query demand` fetches the demand file the
# ledger derives, `gongshe plan solve` makes the plan, `gongshe plan commit` puts it in force and
# `gongshe query plan` shows its cap, which then refuses an issuance beyond it.
# Usage: plan_commit_test.sh GONGSHE DATA_DIR WORK_DIR BASE_PORT   (prints "plan commit test passed")
set -euo pipefail
gongshe=$1 data=$2 work=$3 port=$4
source "$(dirname "$0")/live_devnet.sh"

epoch() { "$gongshe" query status --node "$node" --json | field epoch; }

for who in planner member store; do "$gongshe" key gen --out "$work/$who.key" >/dev/null; done
register() { "$gongshe" tx register --node "$node" --key "$keys/registrar.key" --public-key "$work/$1.key" --role "$2" --wait >/dev/null; }
register planner planner
register member member
register store store
"$gongshe" tx issue --node "$node" --key "$keys/issuer.key" --member "$work/member.key" --class consumption \
  --amount 30 --reason test --wait >/dev/null
first=$(epoch)
for purchase in bread:10 milk:4; do
  "$gongshe" tx redeem --node "$node" --key "$work/member.key" --cosign-key "$work/store.key" --class consumption \
    --amount "${purchase#*:}" --category "${purchase%%:*}" --wait >/dev/null
done
last=$(epoch)

# Before the inputs are on the ledger there is no demand to read, and no plan in force.
if "$gongshe" query demand --node "$node" --matrix "$data/ledger_plan.mtx" --labour "$data/ledger_plan_products.csv" \
  2>"$work/missing.err"; then
  echo "a demand was answered for inputs not on the ledger"; exit 1
fi
grep -q PLAN_DATA_MISSING "$work/missing.err"
if "$gongshe" query plan 0 --node "$node" 2>"$work/none.err"; then echo "a plan for epoch 0 exists"; exit 1; fi
grep -q NOT_FOUND "$work/none.err"

# The inputs go to the ledger; the demand waits for the redemptions' epochs to close.
"$gongshe" plan upload "$data/ledger_plan.mtx" "$data/ledger_plan_products.csv" --node "$node" --key "$work/planner.key"
while [ "$(epoch)" -le "$last" ]; do sleep 0.5; done
window=(--from-epoch "$first" --epochs $((last - first + 1)))
"$gongshe" query demand --node "$node" --matrix "$data/ledger_plan.mtx" --labour "$data/ledger_plan_products.csv" \
  "${window[@]}" --out "$work/demand.csv"
grep -q '^1,10.000000,0,0$' "$work/demand.csv" || [ "$first" != "$last" ]
"$gongshe" plan solve --matrix "$data/ledger_plan.mtx" --labour "$data/ledger_plan_products.csv" \
  --demand "$work/demand.csv" --out "$work/plan.pb"

# A plan made from demand the ledger did not derive is refused before it is sent.
printf 'product,consumer,public,accumulation\n1,99,0,0\n' >"$work/invented.csv"
"$gongshe" plan solve --matrix "$data/ledger_plan.mtx" --labour "$data/ledger_plan_products.csv" \
  --demand "$work/invented.csv" --out "$work/invented.pb" >/dev/null
if "$gongshe" plan commit --node "$node" --plan "$work/invented.pb" --key "$work/planner.key" \
  --demand-from-epoch "$first" --demand-epochs $((last - first + 1)) 2>"$work/invented.err"; then
  echo "a plan from invented demand was committed"; exit 1
fi
grep -q DEMAND_MISMATCH "$work/invented.err"

# The plan is committed for the next epoch, so its cap is seen in force from its start.
target=$(($(epoch) + 1))
"$gongshe" plan commit --node "$node" --plan "$work/plan.pb" --key "$work/planner.key" --epoch "$target" \
  --demand-from-epoch "$first" --demand-epochs $((last - first + 1))
if "$gongshe" plan commit --node "$node" --plan "$work/plan.pb" --key "$work/planner.key" --epoch "$target" \
  --demand-from-epoch "$first" --demand-epochs $((last - first + 1)) 2>"$work/again.err"; then
  echo "a second plan for one epoch was committed"; exit 1
fi
grep -q PLAN_EXISTS "$work/again.err"
cap=$("$gongshe" query plan "$target" --node "$node" --json | field capMilli)
[ "$cap" -gt 0 ]
while [ "$(epoch)" -lt "$target" ]; do sleep 0.5; done
"$gongshe" query plan "$target" --node "$node"
over=$(printf '%d.%03d' $(((cap + 1) / 1000)) $(((cap + 1) % 1000)))
if "$gongshe" tx issue --node "$node" --key "$keys/issuer.key" --member "$work/member.key" --class consumption \
  --amount "$over" --reason "beyond the plan" --wait 2>"$work/over.err"; then
  echo "an issuance beyond the plan's cap went through"; exit 1
fi
grep -q "issuance_cap v1" "$work/over.err"
cap_credits=$(printf '%d.%03d' $((cap / 1000)) $((cap % 1000)))
"$gongshe" tx issue --node "$node" --key "$keys/issuer.key" --member "$work/member.key" --class consumption \
  --amount "$cap_credits" --reason "up to the plan" --wait >/dev/null
echo "plan commit test passed"
