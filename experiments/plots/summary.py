#!/usr/bin/python3
"""Medians of every experiment and the claim table, on the terminal.

Usage: /usr/bin/python3 experiments/plots/summary.py papers/results/<label>
Series whose min..max spread exceeds 25 % of the median are marked 'unstable'.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402

EXPERIMENTS = ["indirection", "freeze", "threads", "aliasing", "cow", "ipc", "alloc"]
HEADLINE = {"indirection": "ns_per_op", "freeze": "ns_per_op", "threads": "ns_per_op", "aliasing": "ns_per_object",
            "cow": "private_pct_of_heap", "ipc": "ns_per_byte", "alloc": "objects_per_s"}
KEYS = {"indirection": ["variant", "working_set_bytes"], "freeze": ["variant", "working_set_bytes", "frozen_pct"],
        "threads": ["variant", "threads"], "aliasing": ["variant"], "cow": ["variant", "frozen"],
        "ipc": ["variant", "transport"], "alloc": ["variant", "backend", "threads"]}


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: summary.py RESULTS_DIR", file=sys.stderr)
        return 2
    d = sys.argv[1]
    env_printed = False
    for exp in EXPERIMENTS:
        rows = R.medians(R.load(d, exp), HEADLINE[exp])
        if not rows:
            continue
        if not env_printed:
            r = rows[0]
            print(f"{r['label']}: {r['cpu_model']}, {r['cores']} cores, {r['kernel']}, {r['compiler']}, {r['build_type']}, "
                  f"rev {r['git_rev']}, THP {r['thp']}, hw counters: {r['hw_counters']}")
            env_printed = True
        print(f"\n== {exp} ({HEADLINE[exp]}, {rows[0]['unit']}, median [min..max])")
        for r in rows:
            p = R.params(r)
            key = " ".join(str(r.get(k) or p.get(k, "")) for k in KEYS[exp])
            unstable = "  unstable" if R.num(r["spread"]) > 0.25 else ""
            print(f"  {R.layout(r):<12} {r['slot_bits'] or '-':>3} {r['semantics']:<7} {key:<40} "
                  f"{R.num(r['value']):>12.4g} [{R.num(r['min']):.4g}..{R.num(r['max']):.4g}]{unstable}")
    claims = os.path.join(d, "claims.csv")
    if os.path.exists(claims):
        print("\n== claims (from the last `rcalab all`)")
        with open(claims, newline="") as f:
            for c in csv.DictReader(f):
                print(f"  {c['claim']:<3} {c['figure']:<48} {c['direction']}\n      {c['comparison']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
