#!/usr/bin/env python3
"""The overtime-pay law: Gongshe's interpreter vs. the same logic in Lua 5.4, on the same input.

Generates N week closures (seeded; written once to BUILD_DIR/law_bench_N.txt), then, --runs
times: runs `gongshe_law_bench contracts/laws/overtime_pay.law FILE REPS` (bench/law_bench.cc)
and `lua5.4 bench/lua/overtime_pay.lua FILE REPS`. Checks that both issue exactly the same
totals (count, milli-credits, reason bytes) and the same first --dump effects word for word,
then prints one JSON object: the median over the runs of each side's median CPU time, the ratio
Lua / Gongshe (above 1: Gongshe faster), and the fuel-metering overhead (metered over unmetered
interpreter, the same code compiled without the fuel check).

Usage: bench/law_bench.py BUILD_DIR [--closures 1000000] [--runs 3] [--reps 5] [--dump 2000]
"""
import argparse
import json
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, n: int) -> None:
    # 10,000 members (64 hex digits, as the ledger passes a key); weeks of 0-60 hours in whole
    # minutes (about a third past the 40-hour standard week); a few labour rates.
    rng = random.Random(20261124)
    workers = ["%064x" % rng.getrandbits(256) for _ in range(10_000)]
    rates = [500, 1000, 1000, 1000, 1250, 1500, 2000, 2333, 3000]
    with open(path, "w") as f:
        for _ in range(n):
            f.write("%s %d %d %d\n" % (rng.choice(workers), rng.randint(1, 52), rng.randint(0, 3600), rng.choice(rates)))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--closures", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dump", type=int, default=2000)
    a = ap.parse_args()

    build = Path(a.build_dir)
    bench = build / "bench" / "gongshe_law_bench"
    law = ROOT / "contracts" / "laws" / "overtime_pay.law"
    lua = ROOT / "bench" / "lua" / "overtime_pay.lua"
    data = build / ("law_bench_%d.txt" % a.closures)
    if not data.exists():
        generate(data, a.closures)

    ours, theirs = [], []
    for run in range(a.runs):
        dump = a.dump if run == 0 else 0
        g = run_json([str(bench), str(law), str(data), str(a.reps), str(dump)])
        l = run_json(["lua5.4", str(lua), str(data), str(a.reps), str(dump)])
        for key in ("closures", "issues", "amount_milli", "reason_bytes"):
            if g[key] != l[key]:
                print("MISMATCH in %s: gongshe %s, lua %s" % (key, g[key], l[key]), file=sys.stderr)
                return 1
        if dump and g["dump"] != l["dump"]:
            first = next(i for i, (x, y) in enumerate(zip(g["dump"], l["dump"])) if x != y)
            print("MISMATCH at effect %d: gongshe %r, lua %r" % (first, g["dump"][first], l["dump"][first]), file=sys.stderr)
            return 1
        ours.append(g)
        theirs.append(l)

    def med(rows, *path):
        values = []
        for r in rows:
            for p in path:
                r = r[p]
            values.append(r)
        return statistics.median(values)

    metered = med(ours, "metered", "cpu_s")
    unmetered = med(ours, "unmetered", "cpu_s")
    ledger = med(ours, "ledger", "cpu_s")
    lua_s = med(theirs, "cpu_s")
    n = ours[0]["closures"]
    result = {
        "closures": n,
        "runs": a.runs,
        "repetitions_per_run": a.reps,
        "issues": ours[0]["issues"],
        "amount_milli": ours[0]["amount_milli"],
        "totals_equal": True,
        "effects_compared": min(a.dump, n),
        "gongshe_metered_cpu_s": round(metered, 4),
        "gongshe_unmetered_cpu_s": round(unmetered, 4),
        "gongshe_with_explanation_rerun_cpu_s": round(ledger, 4),
        "lua_cpu_s": round(lua_s, 4),
        "gongshe_closures_per_s": round(n / metered),
        "lua_closures_per_s": round(n / lua_s),
        "ratio_lua_over_gongshe": round(lua_s / metered, 3),
        "fuel_overhead": round(metered / unmetered - 1, 4),
        "gongshe_wall_s": round(med(ours, "metered", "wall_s"), 4),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
