#!/usr/bin/python3
"""One figure per experiment (PNG and SVG) from rcalab rows.

Usage: /usr/bin/python3 experiments/plots/figures.py papers/results/<label>
Needs Debian's python3-matplotlib (hence /usr/bin/python3). Figures go to <dir>/figures/.
Each figure shows medians; error bars are the min..max of the repetitions.
"""
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402


def save(fig, out, name):
    os.makedirs(out, exist_ok=True)
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out, f"{name}.{ext}"), dpi=130, bbox_inches="tight")
    plt.close(fig)
    print(f"figures: {name}.png/.svg")


def errbar(ax, xs, rows, label, **kw):
    ys = [R.num(r["value"]) for r in rows]
    lo = [y - R.num(r["min"]) for y, r in zip(ys, rows)]
    hi = [R.num(r["max"]) - y for y, r in zip(ys, rows)]
    ax.errorbar(xs, ys, yerr=[lo, hi], label=label, marker="o", ms=3, capsize=2, **kw)


def env_note(fig, rows):
    if rows:
        r = rows[0]
        fig.text(0.01, -0.02, f"{r['cpu_model']}, {r['cores']} cores, {r['kernel']}, {r['compiler']} {r['cxx_flags']}, "
                 f"rev {r['git_rev']}, {r['date']}", fontsize=6, ha="left", va="top")


def indirection(d, out):
    rows = R.medians(R.load(d, "indirection"), "ns_per_op")
    if not rows:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, order in zip(axes, ("sequential", "random")):
        series = defaultdict(list)
        for r in rows:
            if r["variant"] == order:
                series[(R.layout(r), r["slot_bits"], r["semantics"])].append(r)
        for (lay, bits, sem), rs in sorted(series.items()):
            rs.sort(key=lambda r: R.num(r["working_set_bytes"]))
            errbar(ax, [R.num(r["working_set_bytes"]) / 1024 for r in rs], rs, f"{lay} {bits}b {sem}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("working set (KiB of objects)")
        ax.set_title(f"C1 incref+decref, {order} order")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("ns per operation")
    axes[1].legend(fontsize=7)
    env_note(fig, rows)
    save(fig, out, "c1_indirection")


def freeze(d, out):
    rows = R.medians(R.load(d, "freeze"), "ns_per_op")
    if not rows:
        return
    groups = sorted({(R.layout(r), r["working_set_bytes"], r["semantics"]) for r in rows}, key=lambda g: (g[0], R.num(g[1]), g[2]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3.6), squeeze=False)
    variants = ["no_check", "check_expect", "check_noexpect"]
    for ax, (lay, ws, sem) in zip(axes[0], groups):
        fracs = sorted({int(R.params(r)["frozen_pct"]) for r in rows})
        for i, v in enumerate(variants):
            rs = []
            for f in fracs:
                m = [r for r in rows if (R.layout(r), r["working_set_bytes"], r["semantics"], r["variant"]) == (lay, ws, sem, v)
                     and int(R.params(r)["frozen_pct"]) == f]
                rs.extend(m[:1])
            xs = [j + (i - 1) * 0.27 for j in range(len(rs))]
            ys = [R.num(r["value"]) for r in rs]
            ax.bar(xs, ys, width=0.27, label=v,
                   yerr=[[y - R.num(r["min"]) for y, r in zip(ys, rs)], [R.num(r["max"]) - y for y, r in zip(ys, rs)]], capsize=2)
        ax.set_xticks(range(len(fracs)), [f"{f}% frozen" for f in fracs])
        ax.set_title(f"C2 {lay} {int(R.num(ws)) // 1024} KiB {sem}", fontsize=9)
        ax.set_ylabel("ns per operation")
    axes[0][0].legend(fontsize=7)
    env_note(fig, rows)
    save(fig, out, "c2_freeze")


def threads(d, out):
    all_rows = R.medians(R.load(d, "threads"), "ns_per_op")
    if not all_rows:
        return
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, sem in zip(axes[:2], ("plain", "atomic")):
        series = defaultdict(list)
        for r in all_rows:
            if r["variant"] == "own_objects" and r["semantics"] == sem:
                series[R.layout(r)].append(r)
        for lay, rs in sorted(series.items()):
            rs.sort(key=lambda r: R.num(r["threads"]))
            errbar(ax, [R.num(r["threads"]) for r in rs], rs, lay)
        ax.set_title(f"C3 own objects, {sem} counts")
        ax.set_xlabel("threads")
        ax.set_ylabel("ns per op per thread")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    series = defaultdict(list)
    for r in all_rows:
        if r["variant"] == "shared_objects":
            series[r["semantics"]].append(r)
    for sem, rs in sorted(series.items()):
        rs.sort(key=lambda r: R.num(r["threads"]))
        errbar(axes[2], [R.num(r["threads"]) for r in rs], rs, sem)
    axes[2].set_title("C3 shared objects: atomic vs biased")
    axes[2].set_xlabel("threads")
    axes[2].legend(fontsize=7)
    axes[2].grid(alpha=0.3)
    env_note(fig, all_rows)
    save(fig, out, "c3_threads")


def aliasing(d, out):
    rows = R.load(d, "aliasing")
    ns = R.medians(rows, "ns_per_object")
    if not ns:
        return
    ir = {R.params(r)["kernel"]: R.num(r["value"]) for r in rows if r["metric"] == "instructions_per_object"}
    fig, axes = plt.subplots(1, 2 if ir else 1, figsize=(12 if ir else 7, 4), squeeze=False)
    labels = [f"{R.params(r)['build']}\n{r['placement']}/{R.params(r)['field_type']}" for r in ns]
    ys = [R.num(r["value"]) for r in ns]
    axes[0][0].bar(range(len(ns)), ys, yerr=[[y - R.num(r["min"]) for y, r in zip(ys, ns)], [R.num(r["max"]) - y for y, r in zip(ys, ns)]], capsize=2)
    axes[0][0].set_xticks(range(len(ns)), labels, fontsize=6)
    axes[0][0].set_ylabel("ns per object")
    axes[0][0].set_title("C4 field reads around incref/decref")
    if ir:
        vals = [ir.get(R.params(r)["kernel"], float("nan")) for r in ns]
        axes[0][1].bar(range(len(ns)), vals, color="tab:orange")
        axes[0][1].set_xticks(range(len(ns)), labels, fontsize=6)
        axes[0][1].set_ylabel("instructions per object (callgrind)")
        axes[0][1].set_title("C4 instructions")
    env_note(fig, ns)
    save(fig, out, "c4_aliasing")


def cow(d, out):
    rows = R.medians(R.load(d, "cow"), "private_pct_of_heap")
    if not rows:
        return
    bits = sorted({r["slot_bits"] for r in rows})
    fig, axes = plt.subplots(1, len(bits), figsize=(7 * len(bits), 4), squeeze=False)
    for ax, b in zip(axes[0], bits):
        keys = [("dense", "no"), ("dense", "yes"), ("sparse", "no"), ("noop", "no")]
        lays = sorted({R.layout(r) for r in rows if r["slot_bits"] == b}, key=R.layout_key)
        w = 0.8 / len(keys)
        for i, (walk, frozen) in enumerate(keys):
            ys = []
            for lay in lays:
                m = [r for r in rows if r["slot_bits"] == b and R.layout(r) == lay and r["variant"] == walk and R.params(r).get("frozen") == frozen]
                ys.append(R.num(m[0]["value"]) if m else float("nan"))
            ax.bar([j + (i - 1.5) * w for j in range(len(lays))], ys, width=w, label=f"{walk}{' frozen' if frozen == 'yes' else ''}")
        ax.set_xticks(range(len(lays)), lays, fontsize=8)
        ax.set_ylabel("% of heap pages made private")
        n = rows[0]["objects"]
        ax.set_title(f"C5 read-only fork child, {n} objects, {b}-bit counts")
        ax.legend(fontsize=7)
    env_note(fig, rows)
    save(fig, out, "c5_cow")


def ipc(d, out):
    rows = R.medians(R.load(d, "ipc"), "ns_per_byte")
    if not rows:
        return
    transports = sorted({R.params(r)["transport"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, mode in enumerate(("raw", "serialised")):
        ys = []
        for t in transports:
            m = [r for r in rows if r["variant"] == mode and R.params(r)["transport"] == t]
            ys.append(R.num(m[0]["value"]) if m else float("nan"))
        ax.bar([j + (i - 0.5) * 0.4 for j in range(len(transports))], ys, width=0.4, label=mode)
    ax.set_yscale("log")
    ax.set_xticks(range(len(transports)), transports)
    ax.set_ylabel("ns per byte (log)")
    ax.set_title("C6 raw IPC vs serialise + send + deserialise")
    ax.legend()
    env_note(fig, rows)
    save(fig, out, "c6_ipc")


def alloc(d, out):
    rows = R.medians(R.load(d, "alloc"), "objects_per_s")
    if not rows:
        return
    threads = sorted({r["threads"] for r in rows}, key=float)
    names = sorted({(r["variant"], r["placement"], r["backend"]) for r in rows})
    fig, ax = plt.subplots(figsize=(10, 4))
    w = 0.8 / len(threads)
    for i, t in enumerate(threads):
        ys = []
        for n in names:
            m = [r for r in rows if (r["variant"], r["placement"], r["backend"]) == n and r["threads"] == t]
            ys.append(R.num(m[0]["value"]) / 1e6 if m else float("nan"))
        ax.bar([j + (i - (len(threads) - 1) / 2) * w for j in range(len(names))], ys, width=w, label=f"{t} threads")
    ax.set_xticks(range(len(names)), [f"{v}\n{p}\n{b}" for v, p, b in names], fontsize=7)
    ax.set_ylabel("million objects/s (alloc+free)")
    ax.set_title("alloc: rca heaps vs bare allocators")
    ax.legend(fontsize=7)
    env_note(fig, rows)
    save(fig, out, "alloc")


def malloc(d, out):
    """rcalab malloc: each allocator's time and peak RSS over mimalloc's per workload, with the
    95 % bootstrap interval; one panel per thread count."""
    rows = [r for r in R.load(d, "malloc") if r["stat"] == "ratio"]
    if not rows:
        return
    threads = sorted({r["threads"] for r in rows}, key=float)
    allocs = [a for a in ("system", "jemalloc", "rca") if any(r["backend"] == a for r in rows)]
    fig, axes = plt.subplots(2, len(threads), figsize=(6 * len(threads), 7), squeeze=False)
    for col, t in enumerate(threads):
        for row_i, metric in enumerate(("time_vs_mimalloc", "rss_vs_mimalloc")):
            ax = axes[row_i][col]
            sel = [r for r in rows if r["threads"] == t and r["metric"] == metric]
            workloads = list(dict.fromkeys(r["variant"] for r in sel))
            w = 0.8 / max(1, len(allocs))
            for i, a in enumerate(allocs):
                xs, ys, lo, hi = [], [], [], []
                for j, wl in enumerate(workloads):
                    m = [r for r in sel if r["variant"] == wl and r["backend"] == a]
                    if not m:
                        continue
                    v = R.num(m[0]["value"])
                    xs.append(j + (i - (len(allocs) - 1) / 2) * w)
                    ys.append(v)
                    lo.append(max(0.0, v - R.num(m[0]["ci_lo"])))
                    hi.append(max(0.0, R.num(m[0]["ci_hi"]) - v))
                ax.bar(xs, ys, width=w, yerr=[lo, hi], capsize=2, label="glibc" if a == "system" else a)
            ax.axhline(1.0, color="black", lw=0.8)
            ax.axhline(1.1, color="gray", lw=0.6, ls="--")
            ax.axhline(2.0, color="red", lw=0.6, ls=":")
            ax.set_xticks(range(len(workloads)), workloads, rotation=60, ha="right", fontsize=7)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.set_ylabel(("time" if metric.startswith("time") else "peak RSS") + " / mimalloc's")
            ax.set_title(f"malloc: {t} thread{'s' if t != '1' else ''}")
            ax.grid(alpha=0.3, axis="y")
            ax.legend(fontsize=7)
    fig.tight_layout()
    env_note(fig, rows)
    save(fig, out, "malloc")


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: figures.py RESULTS_DIR", file=sys.stderr)
        return 2
    d = sys.argv[1]
    out = os.path.join(d, "figures")
    for f in (indirection, freeze, threads, aliasing, cow, ipc, alloc, malloc):
        try:
            f(d, out)
        except Exception as e:  # one broken figure must not hide the others
            print(f"figures: {f.__name__}: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
