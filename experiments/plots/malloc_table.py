#!/usr/bin/python3
"""The allocator suite's table and issue 14's targets, from rcalab malloc's rows.

Usage: malloc_table.py RESULTS_DIR [--subject rca]   (Markdown on stdout; standard library only)

Per workload and thread count: each allocator's median time and peak RSS, and its ratio to
mimalloc with the 95 % bootstrap interval (rows stat=ratio); then the geomeans of the ratios per
thread count (rows stat=geomean). The targets, for the subject allocator (rca by default):
  geomean time <= 1.1x mimalloc's, at 1 and at 2 threads;
  geomean time no worse than jemalloc's (<= 1.0x), at 1 and at 2 threads;
  peak-RSS geomean <= 1.1x mimalloc's (each thread count);
  no workload worse than 2x mimalloc (time and peak RSS).
Outcomes use the verdict engine's rule (verdicts.outcome): a time counts only through its whole
interval, so a ratio whose interval straddles the limit is "unclear". Timing noise on the shared
2-core machines is 5-18 % between identical runs. An allocator without rows, or reported
unavailable, is said so; its targets are "no data", never a number.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
import verdicts as V  # noqa: E402

ALLOCATORS = ("system", "mimalloc", "jemalloc", "rca")
NAMES = {"system": "glibc"}


def label(a):
    return NAMES.get(a, a)


def fmt_ratio(r):
    if r is None:
        return "-"
    v, lo, hi = (R.num(r.get(k)) for k in ("value", "ci_lo", "ci_hi"))
    return f"{v:.2f} [{lo:.2f}, {hi:.2f}]"


def load(d):
    rows = R.load(d, "malloc")
    med, ratio, geo, unavailable = {}, {}, {}, {}
    for r in rows:
        key = (r["variant"], r["threads"], r["backend"], r["metric"])
        if r["stat"] == "median":
            med[key] = r
        elif r["stat"] == "ratio":
            ratio[key] = r
        elif r["stat"] == "geomean":
            geo[(r["threads"], r["backend"], r["metric"])] = r
        elif r["stat"] == "unavailable":
            unavailable.setdefault(r["backend"], R.params(r).get("unavailable", "?"))
    return rows, med, ratio, geo, unavailable


def targets(subject, ratio, geo, thread_counts):
    """[(target text, value text, outcome)] for the subject allocator."""
    out = []

    def judge(text, r, limit, is_time):
        if r is None:
            out.append((text, "-", "no data"))
            return
        v, lo, hi = (R.num(r.get(k)) for k in ("value", "ci_lo", "ci_hi"))
        if not is_time or R.isna(lo):
            lo = hi = v
        out.append((text, fmt_ratio(r), V.outcome(lo, hi, "at_most", limit)))

    for t in thread_counts:
        judge(f"geomean time vs mimalloc, {t} thr, <= 1.1x", geo.get((t, subject, "time_vs_mimalloc")), 1.1,
              True)
        judge(f"geomean time vs jemalloc, {t} thr, <= 1.0x", geo.get((t, subject, "time_vs_jemalloc")), 1.0,
              True)
        # Beside the wall time: the process's CPU time, which leaves out the time other jobs held
        # the cores (a 2-thread workload's CPU time also counts both threads' spinning and waiting).
        judge(f"(beside) geomean CPU time vs mimalloc, {t} thr, <= 1.1x",
              geo.get((t, subject, "cpu_vs_mimalloc")), 1.1, True)
        # Peak RSS moves little between runs, but it is still a measurement: its interval decides too.
        judge(f"geomean peak RSS vs mimalloc, {t} thr, <= 1.1x", geo.get((t, subject, "rss_vs_mimalloc")),
              1.1, True)
    worst = {}
    for (w, t, a, m), r in ratio.items():
        if a != subject or m not in ("time_vs_mimalloc", "rss_vs_mimalloc"):
            continue
        cur = worst.get(m)
        if cur is None or R.num(r["value"]) > R.num(cur[1]["value"]):
            worst[m] = (f"{w} {t} thr", r)
    for m in ("time_vs_mimalloc", "rss_vs_mimalloc"):
        what = "time" if m.startswith("time") else "peak RSS"
        if m not in worst:
            out.append((f"every workload's {what} vs mimalloc <= 2x", "-", "no data"))
            continue
        # Every workload must be within: the outcome is the worst one's (against beats unclear).
        outcomes = []
        for (w, t, a, mm), r in ratio.items():
            if a == subject and mm == m:
                lo, hi = R.num(r["ci_lo"]), R.num(r["ci_hi"])
                outcomes.append(V.outcome(lo, hi, "at_most", 2.0))
        word = "against" if "against" in outcomes else "unclear" if "unclear" in outcomes else "within"
        where, r = worst[m]
        out.append((f"every workload's {what} vs mimalloc <= 2x (worst: {where})", fmt_ratio(r), word))
    return out


def table(d, subject="rca"):
    rows, med, ratio, geo, unavailable = load(d)
    if not rows:
        return f"malloc_table.py: no malloc rows in {d}"
    configs = []
    for (w, t, a, m) in med:
        if (w, t) not in configs:
            configs.append((w, t))
    present = [a for a in ALLOCATORS if any(k[2] == a for k in med)]
    lines = []
    env = rows[0]
    loads = sorted({R.params(r).get("load1_before", "") for r in rows if r["stat"] == "median"} - {""},
                   key=float)
    lines.append(f"rcalab malloc, rev {env.get('git_rev')}, {env.get('date')}, {env.get('cpu_model')} "
                 f"{env.get('cores')} cores; 1-min load average during the runs "
                 f"{loads[0] if loads else '?'}..{loads[-1] if loads else '?'}")
    for a, why in unavailable.items():
        lines.append(f"- {label(a)}: unavailable ({why})")
    lines.append("")
    head = ["workload", "thr"] + [f"{label(a)} ms" for a in present] + [f"{label(a)} RSS MiB" for a in present]
    head += [f"{label(a)}/mimalloc time" for a in present if a != "mimalloc"]
    head += [f"{label(a)}/mimalloc RSS" for a in present if a != "mimalloc"]
    has_ir = any(k[3] == "instructions_vs_mimalloc" for k in ratio)
    if has_ir:
        head += [f"{label(a)}/mimalloc instr." for a in present if a != "mimalloc"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for w, t in configs:
        cells = [w, t]
        for a in present:
            r = med.get((w, t, a, "time_ms"))
            cells.append(f"{R.num(r['value']):.1f}" if r else "-")
        for a in present:
            r = med.get((w, t, a, "peak_rss_kib"))
            cells.append(f"{R.num(r['value']) / 1024:.1f}" if r else "-")
        for m in ("time_vs_mimalloc", "rss_vs_mimalloc") + (("instructions_vs_mimalloc",) if has_ir else ()):
            for a in present:
                if a != "mimalloc":
                    r = ratio.get((w, t, a, m))
                    cells.append(fmt_ratio(r) if m != "instructions_vs_mimalloc" or r is None
                                 else f"{R.num(r['value']):.2f}")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append("")
    pairs = (("mimalloc", "time"), ("mimalloc", "cpu"), ("mimalloc", "rss"), ("jemalloc", "time"))
    cols = [(a, b, m) for a in present for b, m in pairs if a != b]
    lines.append("| geomean | thr | " + " | ".join(
        f"{label(a)}/{b} {dict(time='time', cpu='CPU time', rss='RSS')[m]}" for a, b, m in cols) + " |")
    lines.append("|" + "---|" * (len(cols) + 2))
    for t in sorted({k[0] for k in geo}, key=float):
        cells = ["", t] + [fmt_ratio(geo.get((t, a, f"{m}_vs_{b}"))) for a, b, m in cols]
        n = next((R.num(g["n"]) for k, g in geo.items() if k[0] == t and k[2] == "time_vs_mimalloc"),
                 float("nan"))
        cells[0] = f"{n:g} workloads"
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    for a in present:
        g = geo.get(("1", a, "instructions_vs_mimalloc"))
        if g is not None:
            lines.append(f"- {label(a)}/mimalloc instructions (callgrind, 1 thread, whole process, "
                         f"{R.num(g['n']):g} workloads): geomean {R.num(g['value']):.3f}")
    lines.append("")
    lines.append(f"Targets for {label(subject)} (issue 14; a time counts only through its 95 % interval):")
    if subject in unavailable and subject not in present:
        lines.append(f"- {label(subject)} unavailable: {unavailable[subject]}; no target can be judged")
    else:
        for text, val, word in targets(subject, ratio, geo, sorted({k[0] for k in geo}, key=float)):
            lines.append(f"- {text}: {val} -> {word}")
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    if not os.path.isdir(argv[1]):
        print(f"malloc_table.py: no result set at {argv[1]}", file=sys.stderr)
        return 2
    subject = argv[argv.index("--subject") + 1] if "--subject" in argv[2:-1] else "rca"
    print(table(argv[1], subject))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
