#!/usr/bin/python3
"""Turns one result set of rcalab rows into everything the paper cites.

Usage: /usr/bin/python3 papers/tools/gen.py RESULTS_DIR OUT_DIR [--others DIR ...]

RESULTS_DIR is papers/results/<label>/ (rows as experiments/README.md documents them). OUT_DIR
receives:
  values.tex      \\rvdef{key}{text} for every number, word and verdict the text cites
  tab-*.tex       one table per claim (booktabs tabulars), the verdict table, the machine table
  fig-*.pdf       one figure per claim (matplotlib, Debian's, hence /usr/bin/python3)
  values.json     the same values, for scripts and the closing note
  verdicts.txt    each claim's verdict, its rule and the figure behind it (plain text)
  manifest.json   what was generated and which inputs were missing

Nothing here holds a measured number: each one is read from the rows. A claim whose rows are
absent still gets its table, figure and verdict ("no data"), so the paper always builds; the
manifest lists what was missing and check.py --strict fails on it.

Verdicts come from the one verdict engine, experiments/plots/verdicts.py (its rule table, the
same one rcalab's claim table uses), and are printed in the paper with each rule and the source
of its limit.
"""
import json
import math
import os
import statistics
import sys
from collections import defaultdict

# The row reader is the experiments' own (experiments/plots/rows.py): one reader of the schema.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "experiments", "plots"))
import rows as R  # noqa: E402
import verdicts as V  # noqa: E402
import asm_stores as A  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 6.5, "figure.dpi": 100,
                     "pdf.fonttype": 42, "svg.fonttype": "none"})

# ---- Limits: read from the engine's rule table (never literals here) ---------------------------

def limit(claim, rid):
    return next(r["limit"] for r in V.RULES if r["claim"] == claim and r["id"] == rid)


T_C1 = limit("C1", "hop")
T_C2 = (limit("C2", "vm") - 1) * 100  # percent
T_C4 = limit("C4", "alias")
T_C6 = limit("C6", "ipc")
T_C7 = limit("C7", "counts")
T_C7_FREEZE = limit("C7", "freeze")

NOISE = ("Deterministic measures decide where the rows have them: instructions and simulated cache misses "
         "(callgrind or cachegrind with the cache geometry given explicitly: 32\\,KiB 8-way L1, 32\\,MiB 16-way LL, "
         "64-byte lines; for C1 callgrind's cycle estimate, instructions + 10 $\\times$ L1 misses + 100 $\\times$ LL "
         "misses, KCachegrind's default weights; the simulator has no hardware prefetcher, so it sees sequential order "
         "as random), pages. A time is reported beside "
         "them as the ratio of the medians with its 95\\,\\% bootstrap interval (2000 resamples of the "
         "repetitions, paired where the compared configurations ran interleaved), and a time difference is beyond "
         "the noise only when that interval excludes 1; a time comparison is within a limit only when its whole "
         "interval is. A claim's verdict pools its comparisons: supported (all within the limit), not supported "
         "(all against), inconclusive (none against, some straddling the limit), mixed (some within, some "
         "against), always with the proportion.")

CLAIMS = {
    "C1": ("the extra pointer lookup should not matter much", "indirection", "fig-c1"),
    "C2": ("Freezing has little impact on a modern CPU with branch prediction", "freeze", "fig-c2"),
    "C3": ("could impair performance, but mostly if multiple threads are allowed to access the same page",
           "threads", "fig-c3"),
    "C4": ("the compiler cannot know what the pointer actually refers to", "aliasing", "fig-c4"),
    "C5": ("anyone that touches the refcount manually will just dirty the page", "cow", "fig-c5"),
    "C6": ("the pickle overhead is huge compared to the low-level IPC", "ipc", "fig-c6"),
    "C7": ("Both of them will decrease performance for non-forking python code", "vm", "fig-c7"),
}

lay_key = R.layout_key


# ---- Text helpers ------------------------------------------------------------------------------

def tex(s):
    """LaTeX-safe text."""
    rep = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_", "{": "\\{",
           "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}"}
    return "".join(rep.get(c, c) for c in str(s))


def fmt(x, nd=None):
    """A number for the text: 3 significant digits by default, '--' for NA."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "--"
    if nd is not None:
        return f"{x:.{nd}f}"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}".replace(",", "\\,")
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    if ax == 0:
        return "0"
    return f"{x:.3g}"


def int_txt(x):
    """An integer count with thin spaces between thousands."""
    if R.isna(x):
        return "--"
    return f"{x:,.0f}".replace(",", "\\,")


def ratio_txt(x):
    return fmt(x, 2) + "$\\times$" if not R.isna(x) else "--"


def pct_txt(x):
    return (("+" if x >= 0 else "") + fmt(x, 1) + "\\,\\%") if not R.isna(x) else "--"


def size_txt(b):
    b = float(b)
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= f:
            v = b / f
            return (f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}") + "\\," + unit
    return f"{b:.0f}\\,B"


def noise_mark(a, b):
    """'' when the two series differ beyond the noise, else a dagger (ranges overlap)."""
    return "" if R.beyond_noise(a, b) else "$^\\dagger$"


class Out:
    def __init__(self, out_dir):
        self.dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.values = {}
        self.tables = []
        self.figures = []
        self.listings = []
        self.missing = []
        self.verdicts = {}

    def v(self, key, text):
        self.values[key] = str(text)

    def table(self, name, body):
        with open(os.path.join(self.dir, name + ".tex"), "w") as f:
            f.write("% generated by papers/tools/gen.py from rcalab rows: do not edit\n" + body)
        self.tables.append(name)

    def figure(self, name, fig):
        fig.savefig(os.path.join(self.dir, name + ".pdf"), bbox_inches="tight")
        plt.close(fig)
        self.figures.append(name)

    def empty_figure(self, name, why):
        fig, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, why, ha="center", va="center")
        self.figure(name, fig)

    def verdict(self, claim, verdict, evidence, headline=None):
        rule = engine_rule_text(claim)
        self.verdicts[claim] = {"verdict": verdict, "evidence": evidence, "figure": CLAIMS[claim][2],
                                "rule": rule, "headline": headline or evidence}
        self.v(f"{claim.lower()}.verdict", verdict)
        self.v(f"{claim.lower()}.rule", rule)
        self.v(f"{claim.lower()}.evidence", evidence)
        self.v("noise.rule", NOISE)


def tabular(cols, header, rows, note=None):
    """A booktabs tabular; cells are LaTeX already."""
    s = "\\fittable{\\begin{tabular}{" + cols + "}\n\\toprule\n" + " & ".join(header) + " \\\\\n\\midrule\n"
    for r in rows:
        if r == "mid":
            s += "\\midrule\n"
        else:
            s += " & ".join(r) + " \\\\\n"
    s += "\\bottomrule\n\\end{tabular}}\n"
    if note:
        s += "\\tabnote{" + note + "}\n"
    return s


def no_data_table(what):
    return "\\emph{No rows for " + tex(what) + " in this result set.}\n"


ROWS = None  # V.Rows of the result set (main sets it): the repetitions behind each median


def interval(s):
    """95 % bootstrap interval of a median series (its repetitions), else its min..max."""
    vals = ROWS.raw_values(s.row) if ROWS is not None and s is not None else []
    if len(vals) >= 2:
        return V.bootstrap_median(vals)
    return (s.min, s.max) if s is not None else (float("nan"), float("nan"))


def yerr(ys, series):
    """Error bars (below, above) of medians: their 95 % bootstrap intervals."""
    lo, hi = [], []
    for y, s in zip(ys, series):
        a, b = interval(s) if s is not None else (y, y)
        lo.append(max(0.0, y - a) if not R.isna(a) else 0.0)
        hi.append(max(0.0, b - y) if not R.isna(b) else 0.0)
    return [lo, hi]


def legend_outside(ax, **kw):
    """The legend right of the axes, off the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kw)


def errbar(ax, xs, series, label, **kw):
    ys = [s.value for s in series]
    ax.errorbar(xs, ys, yerr=yerr(ys, series), label=label, marker="o", ms=2.5, capsize=1.5, lw=1, **kw)


def time_rows(o, prefix, rows, metric):
    """Median rows of a single-threaded timing: the process's CPU time (cpu_<metric>, task clock) when
    the set has it, as it leaves out the time other jobs held the CPU; else wall time (<metric>)."""
    cpu = R.summaries(rows, "cpu_" + metric)
    if cpu and all(not R.isna(R.num(r.get("value"))) for r in cpu):
        o.v(prefix + ".time", "CPU time of the process (task clock)")
        return cpu
    o.v(prefix + ".time", "wall-clock time")
    return R.summaries(rows, metric)


def engine_rule_text(claim):
    """The claim's rules from the engine's table, with each limit's source, as LaTeX."""
    parts = []
    for r in V.RULES:
        if r["claim"] != claim:
            continue
        role = "" if r["decides"] else " (reported beside, does not decide)"
        parts.append(f"\\emph{{{tex(r['id'])}}}: {tex(V.rule_text(r))}{role}. Limit: {tex(V.SOURCES[r['source']])}")
    return "judged by these rules: " + " ".join(parts)


def engine_verdicts(o, d):
    """Every claim's verdict from the engine: the verdict word, the proportion, the comparisons."""
    result = V.evaluate(d)
    o.engine = result
    for claim in CLAIMS:
        v = result[claim]
        lines = []
        for rr in v["rules"]:
            cs = rr["comparisons"]
            head = f"{tex(rr['rule']['id'])}: {tex(rr['verdict'])}, {tex(rr['proportion'])}"
            if cs:
                head += " (" + "; ".join(tex(V.fmt_comparison(c)) for c in cs[:8]) + ("; ..." if len(cs) > 8 else "") + ")"
            lines.append(head)
        o.verdict(claim, v["verdict"], tex(v["proportion"]) + ". " + ". ".join(lines),
                  tex(v["proportion"]))
        o.v(f"{claim.lower()}.proportion", tex(v["proportion"]))
        for rr in v["rules"]:
            o.v(f"{claim.lower()}.{rr['rule']['id']}.outcome", tex(rr["verdict"]))
            o.v(f"{claim.lower()}.{rr['rule']['id']}.proportion", tex(rr["proportion"]))


# ---- Environment and methodology --------------------------------------------------------------

def environment(d, o, label):
    env = R.environment(d)
    o.v("label", tex(label))
    for k, key in (("cpu_model", "env.cpu"), ("cores", "env.cores"), ("kernel", "env.kernel"), ("compiler", "env.compiler"),
                   ("cxx_flags", "env.flags"), ("build_type", "env.build"), ("git_rev", "env.rev"), ("thp", "env.thp"),
                   ("date", "env.date"), ("pinned", "env.pinned"), ("perf_paranoid", "env.paranoid"),
                   ("hw_counters", "env.hw"), ("sw_counters", "env.sw"), ("soft_dirty", "env.softdirty"),
                   ("pagemap_exclusive", "env.pagemap"), ("pagemap_scan", "env.pagemapscan"),
                   ("benchmark_lib", "env.benchlib"), ("rca_version", "env.rcaversion"), ("host", "env.host")):
        o.v(key, tex(env.get(k, "") or "unknown"))
    # Across every row of every experiment: dates, revisions, repetitions, pinning.
    dates, revs, ns, pinned, hw = set(), set(), [], set(), set()
    n_rows = 0
    per_exp = {}
    for exp in ("indirection", "freeze", "threads", "aliasing", "cow", "ipc", "alloc", "vm"):
        rows = R.load(d, exp)
        per_exp[exp] = len(rows)
        n_rows += len(rows)
        for r in rows:
            if r.get("date"):
                dates.add(r["date"])
            if r.get("git_rev"):
                revs.add(r["git_rev"])
            if r.get("pinned"):
                pinned.add(r["pinned"])
            if r.get("hw_counters"):
                hw.add(r["hw_counters"])
            if r.get("stat") == "median" and not R.isna(R.num(r.get("n"))):
                ns.append(R.num(r["n"]))
    o.v("env.rows", int_txt(float(n_rows)))
    o.v("env.experiments", fmt(float(sum(1 for v in per_exp.values() if v)), 0))
    # Rows carry the start time of the rcalab run that wrote them (one per process), not the time
    # of each measurement: the span is of the runs' starts.
    def when(x):
        return tex(x.replace("T", " ").replace("Z", " UTC")[:16] + " UTC") if x else "unknown"
    o.v("env.datefirst", when(min(dates)) if dates else "unknown")
    o.v("env.datelast", when(max(dates)) if dates else "unknown")
    o.v("env.nruns", str(len(dates)))
    o.v("env.revs", tex(", ".join(sorted(revs))) if revs else "unknown")
    o.v("env.nrevs", fmt(float(len(revs)), 0))
    o.v("env.repsmin", fmt(min(ns), 0) if ns else "--")
    o.v("env.repsmax", fmt(max(ns), 0) if ns else "--")
    o.v("env.pinnedall", tex(", ".join(sorted(pinned))) if pinned else "unknown")
    o.v("env.hwall", tex(", ".join(sorted(hw))) if hw else "unknown")
    # Series flagged unstable: spread over 25 % (experiments/README.md uses the same mark).
    unstable = total = 0
    for exp in per_exp:
        for r in R.summaries(R.load(d, exp)):
            sp = R.num(r.get("spread"))
            if not R.isna(sp):
                total += 1
                unstable += sp > 0.25
    o.v("env.series", fmt(float(total), 0))
    o.v("env.unstable", fmt(float(unstable), 0))
    o.v("env.unstablepct", fmt(100.0 * unstable / total, 0) if total else "--")
    rows = [[tex(e), fmt(float(n), 0)] for e, n in per_exp.items()]
    o.table("tab-rows", tabular("lr", ["experiment", "rows"], rows))
    return env


def machines(results_root, o, label):
    """Every result set under papers/results/, with its machine: the paper can cite any of them."""
    rows = []
    if os.path.isdir(results_root):
        for name in sorted(os.listdir(results_root)):
            d = os.path.join(results_root, name)
            if not os.path.isdir(d):
                continue
            env = R.environment(d)
            if not env:
                continue
            mark = " (this paper)" if name == label else ""
            rows.append([tex(name) + mark, tex(env.get("cpu_model", "")), tex(env.get("cores", "")),
                         tex(env.get("kernel", "")), tex(env.get("hw_counters", "")), tex(env.get("date", "")[:10])])
    body = tabular("llrlll", ["result set", "CPU", "cores", "kernel", "hardware counters", "date"], rows) if rows else \
        no_data_table("any machine")
    o.table("tab-machines", body)


# ---- C1: indirection ---------------------------------------------------------------------------

def c1(d, o):
    rows = time_rows(o, "c1", R.load(d, "indirection"), "ns_per_op")
    if not rows:
        o.missing.append("indirection")
        o.table("tab-c1", no_data_table("indirection (C1)"))
        o.empty_figure("fig-c1", "no indirection rows")
        for k in ("ws.small", "ws.large", "hop.small", "hop.large", "emb.small", "emb.large", "best.small", "best.large",
                  "bestlay.small", "bestlay.large", "inline.small", "inline.large", "order", "nsizes", "sizes", "ok",
                  "misses"):
            o.v("c1." + k, "--")
        o.v("c1.limit", fmt(T_C1, 2))
        c1_sim(d, o)
        return
    sem = "plain" if any(r["semantics"] == "plain" for r in rows) else rows[0]["semantics"]
    rows = [r for r in rows if r["semantics"] == sem]
    sizes = sorted({R.num(r["working_set_bytes"]) for r in rows})
    lays = sorted({R.layout(r) for r in rows if r["slot_bits"] in ("32", "")}, key=lay_key)
    orders = [x for x in ("sequential", "random") if any(r["variant"] == x for r in rows)]

    def s(lay, order, ws, bits="32"):
        want = dict(layout=lay, variant=order, working_set_bytes=ws)
        if lay not in ("inline",):
            want["slot_bits"] = bits
        return R.one(rows, **want)

    table_rows = []
    for order in orders:
        for ws in sizes:
            base = s("inline", order, ws)
            if base is None:
                continue
            line = [tex(order), size_txt(ws), fmt(base.value)]
            for lay in lays:
                if lay == "inline":
                    continue
                x = s(lay, order, ws)
                line.append(ratio_txt(x.value / base.value) + noise_mark(x, base) if x else "--")
            table_rows.append(line)
        table_rows.append("mid")
    if table_rows and table_rows[-1] == "mid":
        table_rows.pop()
    header = ["order", "working set", "inline ns/op"] + [tex(l) for l in lays if l != "inline"]
    o.table("tab-c1", tabular("ll" + "r" * (len(header) - 2), header, table_rows,
                              "Each handle column: median time over inline's median, same order and working set "
                              "(32-bit slots). $^\\dagger$: the min..max ranges overlap (within the noise)."))
    # Headline values: random order, smallest and largest working set.
    order = "random" if "random" in orders else orders[0]
    for tag, ws in (("small", sizes[0]), ("large", sizes[-1])):
        base = s("inline", order, ws)
        o.v(f"c1.ws.{tag}", size_txt(ws))
        hop = s("shared/pointer", order, ws)
        emb = s("embedded", order, ws)
        o.v(f"c1.inline.{tag}", fmt(base.value) if base else "--")
        o.v(f"c1.hop.{tag}", ratio_txt(hop.value / base.value) if hop and base else "--")
        o.v(f"c1.emb.{tag}", ratio_txt(emb.value / base.value) if emb and base else "--")
        best = None
        for lay in lays:
            if lay in ("inline",):
                continue
            x = s(lay, order, ws)
            if x and base and (best is None or x.value < best[1]):
                best = (lay, x.value)
        o.v(f"c1.best.{tag}", ratio_txt(best[1] / base.value) if best and base else "--")
        o.v(f"c1.bestlay.{tag}", tex(best[0]) if best else "--")
    # Cache misses per operation where hardware counters opened (NA on machines without a PMU).
    base, hop = s("inline", order, sizes[-1]), s("shared/pointer", order, sizes[-1])

    def per_op(x, col):
        if not x:
            return float("nan")
        ops = R.num(R.params(x.row).get("ops_per_pass")) * R.num(R.params(x.row).get("passes"))
        return R.num(x.row.get(col)) / ops if ops else float("nan")
    l1 = (per_op(base, "l1d_read_misses"), per_op(hop, "l1d_read_misses"))
    llc = (per_op(base, "llc_misses"), per_op(hop, "llc_misses"))
    if R.isna(l1[0]) and R.isna(llc[0]):
        o.v("c1.misses", "Cache misses were not counted: no hardware counter opened on this machine.")
    else:
        o.v("c1.misses", f"Per operation at {size_txt(sizes[-1])}, L1d read misses: inline {fmt(l1[0])}, shared/pointer "
                         f"{fmt(l1[1])}; LLC misses: inline {fmt(llc[0])}, shared/pointer {fmt(llc[1])}.")
    o.v("c1.order", tex(order))
    o.v("c1.nsizes", fmt(float(len(sizes)), 0))
    o.v("c1.sizes", ", ".join(size_txt(w) for w in sizes))
    o.v("c1.limit", fmt(T_C1, 2))

    fig, axes = plt.subplots(1, len(orders), figsize=(7, 2.8), sharey=True, squeeze=False)
    for ax, order in zip(axes[0], orders):
        series = defaultdict(list)
        for r in rows:
            if r["variant"] == order:
                series[(R.layout(r), r["slot_bits"])].append(r)
        for (lay, bits), rs in sorted(series.items(), key=lambda kv: (lay_key(kv[0][0]), kv[0][1])):
            rs.sort(key=lambda r: R.num(r["working_set_bytes"]))
            errbar(ax, [R.num(r["working_set_bytes"]) / 1024 for r in rs], [R.Series(r) for r in rs],
                   f"{lay}" + (f" {bits}b" if lay != "inline" else ""))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("working set (KiB of objects)")
        ax.set_title(f"{order} order")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("ns per incref or decref (median, 95 % CI)")
    legend_outside(axes[0][-1])
    o.figure("fig-c1", fig)
    c1_sim(d, o)


def c1_sim(d, o):
    """C1 under callgrind's cache simulation: per op, inline vs each handle layout."""
    allr = R.load(d, "indirection")
    sim = [r for r in allr if r.get("metric", "").startswith("sim_") and r.get("stat") == "raw"]
    keys = ("sim_cycles_per_op", "sim_instructions_per_op", "sim_d1_misses_per_op", "sim_ll_misses_per_op")
    if not sim:
        o.table("tab-c1sim", no_data_table("indirection under callgrind (simulated caches)"))
        o.v("c1sim.method", "not run")
        o.v("c1sim.sizes", "--")
        for k in ("hop.small", "hop.large", "llhop.large"):
            o.v("c1sim." + k, "--")
        return

    def val(lay, order, ws, metric):
        x = [r for r in sim if R.layout(r) == lay and r["variant"] == order and R.same(r["working_set_bytes"], ws)
             and r["metric"] == metric and (lay == "inline" or r["slot_bits"] == "32")]
        return R.num(x[0]["value"]) if x else float("nan")
    sizes = sorted({R.num(r["working_set_bytes"]) for r in sim})
    lays = [l for l in sorted({R.layout(r) for r in sim}, key=lay_key) if l != "inline"]
    rows = []
    for order in ("sequential", "random"):
        for ws in sizes:
            cyc = val("inline", order, ws, "sim_cycles_per_op")
            if R.isna(cyc):
                continue
            line = [tex(order), size_txt(ws), fmt(cyc), fmt(val("inline", order, ws, "sim_d1_misses_per_op")),
                    fmt(val("inline", order, ws, "sim_ll_misses_per_op"))]
            for lay in lays:
                c = val(lay, order, ws, "sim_cycles_per_op")
                line.append(ratio_txt(c / cyc) if not R.isna(c) else "--")
                line.append(fmt(val(lay, order, ws, "sim_d1_misses_per_op")) + " / " +
                            fmt(val(lay, order, ws, "sim_ll_misses_per_op")))
            rows.append(line)
    header = ["order", "working set", "inline cycles/op", "inline D1 m/op", "inline LL m/op"]
    for lay in lays:
        header += [tex(lay) + " cycles", tex(lay) + " D1 / LL m/op"]
    o.table("tab-c1sim", tabular("ll" + "r" * (len(header) - 2), header, rows,
                                 "Callgrind with cache simulation (" + tex(sim[0]["method"]) + "); cycles: the estimate "
                                 "instructions + 10 $\\times$ L1 misses + 100 $\\times$ LL misses per incref or decref; "
                                 "handle columns: cycles over inline's, and data misses per operation. Deterministic: "
                                 "the same rows give the same counts on any load."))
    o.v("c1sim.method", tex(sim[0]["method"]))
    o.v("c1sim.sizes", ", ".join(size_txt(w) for w in sizes))
    for tag, ws in (("small", sizes[0]), ("large", sizes[-1])):
        a, b = val("shared/pointer", "random", ws, "sim_cycles_per_op"), val("inline", "random", ws, "sim_cycles_per_op")
        o.v(f"c1sim.hop.{tag}", ratio_txt(a / b) if not R.isna(a) and not R.isna(b) else "--")
    la, lb = val("shared/pointer", "random", sizes[-1], "sim_ll_misses_per_op"), val("inline", "random", sizes[-1],
                                                                                "sim_ll_misses_per_op")
    o.v("c1sim.llhop.large", ratio_txt(la / lb) if lb and not R.isna(la) and not R.isna(lb) else "--")


# ---- C2: freeze --------------------------------------------------------------------------------

def c2(d, o):
    rows = time_rows(o, "c2", R.load(d, "freeze"), "ns_per_op")
    if not rows:
        o.missing.append("freeze")
        o.table("tab-c2", no_data_table("freeze (C2)"))
        o.empty_figure("fig-c2", "no freeze rows")
        for k in ("expect0", "expect50", "noexpect0", "noexpect50", "expect100", "config", "limit"):
            o.v("c2." + k, "--")
        return
    groups = sorted({(R.layout(r), R.num(r["working_set_bytes"]), r["semantics"]) for r in rows},
                    key=lambda g: (lay_key(g[0]), g[1], g[2]))
    fracs = sorted({int(R.num(R.get(r, "frozen_pct"))) for r in rows})
    table_rows = []
    over = {}
    for lay, ws, sem in groups:
        for f in fracs:
            base = R.one(rows, layout=lay, working_set_bytes=ws, semantics=sem, variant="no_check", frozen_pct=f)
            e = R.one(rows, layout=lay, working_set_bytes=ws, semantics=sem, variant="check_expect", frozen_pct=f)
            ne = R.one(rows, layout=lay, working_set_bytes=ws, semantics=sem, variant="check_noexpect", frozen_pct=f)
            if base is None:
                continue
            pe = (e.value / base.value - 1) * 100 if e else float("nan")
            pn = (ne.value / base.value - 1) * 100 if ne else float("nan")
            over[(lay, ws, sem, f)] = (pe, pn)
            table_rows.append([tex(lay), size_txt(ws), tex(sem), f"{f}\\,\\%", fmt(base.value),
                               pct_txt(pe) + (noise_mark(e, base) if e else ""),
                               pct_txt(pn) + (noise_mark(ne, base) if ne else "")])
        table_rows.append("mid")
    if table_rows and table_rows[-1] == "mid":
        table_rows.pop()
    o.table("tab-c2", tabular("lllrrrr", ["layout", "working set", "counts", "frozen", "no check ns/op",
                                          "check+expect", "check, no hint"], table_rows,
                              "Overhead of the check over the no-check build, same configuration and frozen share "
                              "(50\\,\\% = a random half). $^\\dagger$: ranges overlap."))
    # Headline: the first layout at its largest working set (the frozen pattern cannot be learnt there).
    lay0 = groups[0][0]
    ws0 = max(g[1] for g in groups if g[0] == lay0)
    sem0 = [g[2] for g in groups if g[0] == lay0 and g[1] == ws0][0]
    o.v("c2.config", f"{tex(lay0)}, {size_txt(ws0)}, {tex(sem0)}")
    for f, tag in ((0, "0"), (50, "50"), (100, "100")):
        pe, pn = over.get((lay0, ws0, sem0, f), (float("nan"), float("nan")))
        o.v(f"c2.expect{tag}", pct_txt(pe))
        o.v(f"c2.noexpect{tag}", pct_txt(pn))
    o.v("c2.limit", fmt(T_C2, 0))

    ncols = min(len(groups), 3)
    nrows = (len(groups) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(7, 2.4 * nrows), squeeze=False)
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    variants = ["no_check", "check_expect", "check_noexpect"]
    for ax, (lay, ws, sem) in zip(axes.flat, groups):
        for i, v in enumerate(variants):
            ss = [R.one(rows, layout=lay, working_set_bytes=ws, semantics=sem, variant=v, frozen_pct=f) for f in fracs]
            xs = [j + (i - 1) * 0.27 for j, x in enumerate(ss) if x]
            ss = [x for x in ss if x]
            ys = [x.value for x in ss]
            ax.bar(xs, ys, width=0.27, label=v, yerr=yerr(ys, ss), capsize=1.5)
        ax.set_xticks(range(len(fracs)), [f"{f}%" for f in fracs])
        ax.set_xlabel("objects frozen")
        ax.set_title(f"{lay}, {int(ws) >> 10} KiB, {sem}")
        ax.set_ylabel("ns per incref or decref (95 % CI)")
    fig.tight_layout()
    legend_outside(axes[0][-1] if len(groups) <= 3 else axes[0][0])
    o.figure("fig-c2", fig)


# ---- C3: threads -------------------------------------------------------------------------------

def c3_sim(d, o):
    """C3 at one thread under callgrind's simulated caches: the slot path of each layout alone."""
    sim = [r for r in R.load(d, "threads") if r.get("metric", "").startswith("sim_") and r.get("stat") == "raw"]
    keys = ("sim_cycles_per_op", "sim_instructions_per_op", "sim_d1_misses_per_op", "sim_ll_misses_per_op")
    if not sim:
        o.table("tab-c3sim", no_data_table("threads at one thread under callgrind (simulated caches)"))
        for k in ("sharedvthread", "paddedvthread", "paddedd1", "threadd1"):
            o.v("c3sim." + k, "--")
        return

    def val(lay, sem, metric):
        x = [r for r in sim if R.layout(r) == lay and r["semantics"] == sem and r["metric"] == metric]
        return R.num(x[0]["value"]) if x else float("nan")
    rows = []
    sems = [x for x in ("plain", "atomic") if any(r["semantics"] == x for r in sim)]
    for sem in sems:
        for lay in sorted({R.layout(r) for r in sim}, key=lay_key):
            rows.append([tex(sem), tex(lay)] + [fmt(val(lay, sem, k)) for k in keys])
    o.table("tab-c3sim", tabular("llrrrr", ["counts", "layout", "cycles/op", "instructions/op", "D1 misses/op",
                                            "LL misses/op"], rows,
                                 "One thread, own objects, the same work as Table~\\ref{tab:c3}, under callgrind "
                                 "(" + tex(sim[0]["method"]) + "); cycles: instructions + 10 $\\times$ L1 misses + "
                                 "100 $\\times$ LL misses."))
    sem = sems[0]
    sh, th, pd = (val(x, sem, "sim_cycles_per_op") for x in ("shared/pointer", "thread/pointer", "padded/pointer"))
    o.v("c3sim.sharedvthread", ratio_txt(sh / th) if th else "--")
    o.v("c3sim.paddedvthread", ratio_txt(pd / th) if th else "--")
    o.v("c3sim.paddedd1", fmt(val("padded/pointer", sem, "sim_d1_misses_per_op")))
    o.v("c3sim.threadd1", fmt(val("thread/pointer", sem, "sim_d1_misses_per_op")))


def c3(d, o):
    allr = R.summaries(R.load(d, "threads"), "ns_per_op")
    vm = [r for r in R.summaries(R.load(d, "vm")) if r.get("claim") == "C3"]
    vm_part(o, vm)
    c3_sim(d, o)
    if not allr:
        o.missing.append("threads")
        o.table("tab-c3", no_data_table("threads (C3)"))
        o.empty_figure("fig-c3", "no threads rows")
        for k in ("T", "shared", "thread", "padded", "inline", "sharedvthread", "threadvinline", "biased", "atomic",
                  "biasedvatomic", "sharedvthreadatomic"):
            o.v("c3." + k, "--")
        return
    own = [r for r in allr if r["variant"] == "own_objects"]
    shared = [r for r in allr if r["variant"] == "shared_objects"]
    threads = sorted({int(R.num(r["threads"])) for r in own}) or [1]
    T = threads[-1]
    sems = [s for s in ("plain", "atomic") if any(r["semantics"] == s for r in own)]
    lays = sorted({R.layout(r) for r in own}, key=lay_key)
    table_rows = []
    for sem in sems:
        base = R.one(own, layout="inline", semantics=sem, threads=T)
        for lay in lays:
            x = R.one(own, layout=lay, semantics=sem, threads=T)
            one_t = R.one(own, layout=lay, semantics=sem, threads=1)
            if not x:
                continue
            table_rows.append([tex(sem), tex(lay), fmt(x.value),
                               (ratio_txt(x.value / base.value) + noise_mark(x, base)) if base and lay != "inline" else "",
                               ratio_txt(x.value / one_t.value) if one_t and T != 1 else "--"])
        table_rows.append("mid")
    for sem in ("atomic", "biased"):
        x = R.one(shared, semantics=sem, threads=T)
        one_t = R.one(shared, semantics=sem, threads=1)
        if x:
            table_rows.append([tex(sem), "same objects", fmt(x.value), "", ratio_txt(x.value / one_t.value) if one_t and T != 1 else "--"])
    if table_rows and table_rows[-1] == "mid":
        table_rows.pop()
    o.table("tab-c3", tabular("llrrr", ["counts", "layout", f"ns/op, {T} threads", "vs inline", f"{T} vs 1 thread"],
                              table_rows, "Own objects: each thread increfs/decrefs only objects it allocated; objects "
                              "were allocated in turns, so shared-page slots of different threads interleave. Same "
                              "objects: every thread on every object. $^\\dagger$: ranges overlap."))
    sem = "plain" if "plain" in sems else sems[0]
    sh = R.one(own, layout="shared/pointer", semantics=sem, threads=T)
    th = R.one(own, layout="thread/pointer", semantics=sem, threads=T)
    pd = R.one(own, layout="padded/pointer", semantics=sem, threads=T)
    il = R.one(own, layout="inline", semantics=sem, threads=T)
    o.v("c3.T", str(T))
    o.v("c3.sem", tex(sem))
    for k, x in (("shared", sh), ("thread", th), ("padded", pd), ("inline", il)):
        o.v(f"c3.{k}", fmt(x.value) if x else "--")
    o.v("c3.sharedvthread", ratio_txt(sh.value / th.value) if sh and th else "--")
    o.v("c3.threadvinline", ratio_txt(th.value / il.value) if th and il else "--")
    o.v("c3.paddedvthread", ratio_txt(pd.value / th.value) if pd and th else "--")
    sha = R.one(own, layout="shared/pointer", semantics="atomic", threads=T)
    tha = R.one(own, layout="thread/pointer", semantics="atomic", threads=T)
    o.v("c3.sharedvthreadatomic", ratio_txt(sha.value / tha.value) if sha and tha else "--")
    b = R.one(shared, semantics="biased", threads=T)
    a = R.one(shared, semantics="atomic", threads=T)
    o.v("c3.biased", fmt(b.value) if b else "--")
    o.v("c3.atomic", fmt(a.value) if a else "--")
    o.v("c3.biasedvatomic", ratio_txt(b.value / a.value) if a and b else "--")
    o.v("c3.limit", fmt(limit("C3", "own"), 2))

    fig, axes = plt.subplots(1, len(sems) + (1 if shared else 0), figsize=(7, 2.6), squeeze=False)
    for ax, sm in zip(axes[0], sems):
        series = defaultdict(list)
        for r in own:
            if r["semantics"] == sm:
                series[R.layout(r)].append(r)
        for lay, rs in sorted(series.items(), key=lambda kv: lay_key(kv[0])):
            rs.sort(key=lambda r: R.num(r["threads"]))
            errbar(ax, [R.num(r["threads"]) for r in rs], [R.Series(r) for r in rs], lay)
        ax.set_title(f"own objects, {sm} counts")
        ax.set_xlabel("threads")
        ax.set_xticks(threads)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("ns per op (wall / ops per thread; 95 % CI)")
    axes[0][0].legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=4)
    if shared:
        ax = axes[0][-1]
        series = defaultdict(list)
        for r in shared:
            series[r["semantics"]].append(r)
        for sm, rs in sorted(series.items()):
            rs.sort(key=lambda r: R.num(r["threads"]))
            errbar(ax, [R.num(r["threads"]) for r in rs], [R.Series(r) for r in rs], sm)
        ax.set_title("same objects: atomic vs biased")
        ax.set_xlabel("threads")
        ax.set_xticks(sorted({int(R.num(r["threads"])) for r in shared}))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        legend_outside(ax)
    o.figure("fig-c3", fig)


def vm_part(o, vm):
    """C3 in a VM: N Duktape heaps in N threads on one rca heap (rows of `rcalab vm`)."""
    if not vm:
        o.table("tab-c3vm", no_data_table("vm threads (C3 in Duktape)"))
        return
    metric = sorted({r["metric"] for r in vm})
    m = "ms" if any(r["unit"] == "ms" for r in vm) else None
    rows = []
    for r in sorted(vm, key=lambda r: (r["metric"], lay_key(R.layout(r)), r.get("variant", ""), R.num(r["threads"]))):
        s = R.Series(r)
        rows.append([tex(r["metric"]), tex(r.get("variant", "")), tex(R.layout(r)), tex(r["threads"]),
                     fmt(s.value) + " " + tex(r["unit"]), f"{fmt(s.min)}..{fmt(s.max)}"])
    del metric, m
    o.table("tab-c3vm", tabular("lllrrr", ["metric", "build", "layout", "threads", "median", "min..max"], rows))


# ---- C4: aliasing ------------------------------------------------------------------------------

def c4(d, o):
    allr = R.load(d, "aliasing")
    ns = time_rows(o, "c4", allr, "ns_per_object")
    if not ns:
        o.missing.append("aliasing")
        o.table("tab-c4", no_data_table("aliasing (C4)"))
        o.empty_figure("fig-c4", "no aliasing rows")
        for k in ("handle", "inline", "ratio", "restrict", "restrictratio", "irhandle", "irinline", "sthandle",
                  "stinline", "ir"):
            o.v("c4." + k, "--")
        return
    static = {R.params(r).get("kernel"): R.num(r["value"]) for r in allr if r.get("metric") == "static_instructions"}
    ir = {R.params(r).get("kernel"): R.num(r["value"]) for r in allr if r.get("metric") == "instructions_per_object"}
    builds = []
    for r in ns:
        b = R.get(r, "build")
        if b not in builds:
            builds.append(b)
    fields = sorted({R.get(r, "field_type") for r in ns})
    table_rows = []
    for b in builds:
        for f in fields:
            il = R.one(ns, build=b, field_type=f, placement="inline")
            hd = [r for r in ns if R.get(r, "build") == b and R.get(r, "field_type") == f and r["placement"] != "inline"]
            hd = R.Series(hd[0]) if hd else None
            if not il or not hd:
                continue
            ki, kh = R.params(il.row).get("kernel"), R.params(hd.row).get("kernel")
            table_rows.append([tex(b), tex(f), fmt(il.value), fmt(hd.value),
                               ratio_txt(hd.value / il.value) + noise_mark(hd, il),
                               fmt(static.get(ki, float("nan")), 0) + " / " + fmt(static.get(kh, float("nan")), 0),
                               fmt(ir.get(ki, float("nan"))) + " / " + fmt(ir.get(kh, float("nan")))])
    o.table("tab-c4", tabular("llrrrrr", ["build", "fields", "inline ns/obj", "handle ns/obj", "handle/inline",
                                          "static instr. (i/h)", "instr./obj (i/h)"], table_rows,
                              "Static instructions: the hot loop in the saved assembly. Instructions per object: "
                              "callgrind (hardware counters refused here); -- where not measured. "
                              "$^\\dagger$: ranges overlap."))
    b0 = "strict" if "strict" in builds else builds[0]
    f0 = "u32" if "u32" in fields else fields[0]
    il = R.one(ns, build=b0, field_type=f0, placement="inline")
    hd = [r for r in ns if R.get(r, "build") == b0 and R.get(r, "field_type") == f0 and r["placement"] != "inline"]
    hd = R.Series(hd[0]) if hd else None
    rs = [r for r in ns if R.get(r, "build") == "restrict" and R.get(r, "field_type") == f0 and r["placement"] != "inline"]
    rs = R.Series(rs[0]) if rs else None
    o.v("c4.build", tex(b0))
    o.v("c4.field", tex(f0))
    o.v("c4.handle", fmt(hd.value) if hd else "--")
    o.v("c4.inline", fmt(il.value) if il else "--")
    o.v("c4.ratio", ratio_txt(hd.value / il.value) if hd and il else "--")
    o.v("c4.restrict", fmt(rs.value) if rs else "--")
    o.v("c4.restrictratio", ratio_txt(rs.value / hd.value) if rs and hd else "--")
    o.v("c4.restrictnoise", ("within the noise" if not R.beyond_noise(rs, hd) else "beyond the noise") if rs and hd else "--")
    ki = R.params(il.row).get("kernel") if il else None
    kh = R.params(hd.row).get("kernel") if hd else None
    o.v("c4.stinline", fmt(static.get(ki, float("nan")), 0))
    o.v("c4.sthandle", fmt(static.get(kh, float("nan")), 0))
    o.v("c4.irinline", fmt(ir.get(ki, float("nan"))))
    o.v("c4.irhandle", fmt(ir.get(kh, float("nan"))))
    o.v("c4.ir", "measured with callgrind" if ir else "not measured in this result set")
    o.v("c4.limit", fmt(T_C4, 2))

    fig, ax = plt.subplots(figsize=(7, 2.6))
    labels, ys, ss, colors = [], [], [], []
    for r in ns:
        s = R.Series(r)
        labels.append(f"{R.get(r, 'build')}\n{r['placement']}\n{R.get(r, 'field_type')}")
        ys.append(s.value)
        ss.append(s)
        colors.append("tab:blue" if r["placement"] == "inline" else "tab:orange")
    ax.bar(range(len(ys)), ys, yerr=yerr(ys, ss), capsize=1.5, color=colors)
    ax.set_xticks(range(len(ys)), labels, fontsize=5.5)
    ax.set_ylabel("ns per object (median, 95 % CI)")
    ax.set_title("field reads around incref/decref: inline (blue) vs handle (orange)")
    o.figure("fig-c4", fig)


def c4_asm(d, o):
    """The hot loops of the strict-aliasing build, inline and handle, as rcalab saved them."""
    path = os.path.join(d, "asm", "aliasing_strict.s")
    text = open(path).read().splitlines() if os.path.exists(path) else []
    # Whether this result set's inline kernel writes its count (the compiler once deleted the stores).
    body = A.kernel_body("\n".join(text), "rca_lab_alias_strict_inline_u32")
    if body is None:
        o.v("c4.inlinestores", "The saved assembly is not part of this result set.")
    elif A.count_stores(body) >= 2:
        o.v("c4.inlinestores", f"In this result set the inline loop stores the count {A.count_stores(body)} times "
                               "per object, as the handle loop does.")
    else:
        o.v("c4.inlinestores", "In this result set the inline loop stores no count: its rows predate the barrier, "
                               "and its inline figures are those of a loop that writes no count.")
    for kind in ("inline", "handle"):
        name = f"rca_lab_alias_strict_{kind}_u32"
        body, inside = [], False
        for line in text:
            if line.startswith(name + ":"):
                inside = True
            if inside:
                if line.lstrip().startswith((".cfi", ".p2align", ".LFB", ".LFE")) or line.startswith(".LFB"):
                    continue
                body.append(line.replace("\t", "  ").rstrip())
                if line.lstrip().startswith(".size"):
                    body.pop()
                    break
        if not body:
            body = [f"({name} is not in this result set's asm/)"]
        with open(os.path.join(o.dir, f"asm-c4-{kind}.txt"), "w") as f:
            f.write("\n".join(body) + "\n")
        o.listings.append(f"asm-c4-{kind}")


# ---- C5: copy-on-write -------------------------------------------------------------------------

def c5(d, o):
    allr = R.load(d, "cow")
    pct = R.summaries(allr, "private_pct_of_heap")
    vm = [r for r in R.summaries(R.load(d, "vm")) if r.get("claim") == "C5"]
    c5_vm(o, vm)
    c5_memory(allr, o)
    if not pct:
        o.missing.append("cow")
        o.table("tab-c5", no_data_table("cow (C5)"))
        o.empty_figure("fig-c5", "no cow rows")
        for k in ("inline", "shared", "shared64", "frozen", "sharedfrozen", "sparseinline", "sparseshared", "objects",
                  "objbytes", "noop"):
            o.v("c5." + k, "--")
        return
    obj = R.summaries(allr, "object_pages_private")
    rc = R.summaries(allr, "refcount_pages_private")
    lays = sorted({(R.layout(r), r["slot_bits"]) for r in pct}, key=lambda x: (lay_key(x[0]), x[1]))
    walks = [w for w in ("dense", "sparse", "noop") if any(r["variant"] == w for r in pct)]
    table_rows = []
    for lay, bits in lays:
        cells = [tex(lay), tex(bits if lay != "inline" else bits)]
        for w in walks:
            for fz in ("no", "yes"):
                x = R.one(pct, layout=lay, slot_bits=bits, variant=w, frozen=fz)
                cells.append(fmt(x.value, 1) if x else "--")
        x = R.one(obj, layout=lay, slot_bits=bits, variant="dense", frozen="no")
        y = R.one(rc, layout=lay, slot_bits=bits, variant="dense", frozen="no")
        cells.append((fmt(x.value, 0) if x else "--") + " / " + (fmt(y.value, 0) if y else "--"))
        table_rows.append(cells)
    header = ["layout", "slot bits"] + [f"{w}{' frozen' if fz == 'yes' else ''}" for w in walks for fz in ("no", "yes")] + \
        ["dense: obj / rc pages"]
    any_row = pct[0]
    n = R.num(any_row["objects"])
    ob = R.num(any_row["object_bytes"])
    o.table("tab-c5", tabular("ll" + "r" * (len(header) - 2), header, table_rows,
                              "Percent of the heap's pages (object + refcount pages) that a fork child made private "
                              "(pagemap bit 56, median over the children). dense: incref + read + decref of every "
                              "object; sparse: every k-th; noop: the control."))

    def g(lay, bits, walk, fz):
        return R.one(pct, layout=lay, slot_bits=bits, variant=walk, frozen=fz)
    inl, sh = g("inline", "32", "dense", "no"), g("shared/index", "32", "dense", "no") or g("shared/pointer", "32", "dense", "no")
    sh64 = g("shared/index", "64", "dense", "no") or g("shared/pointer", "64", "dense", "no")
    fz = g("inline", "32", "dense", "yes")
    shfz = g("shared/index", "32", "dense", "yes") or g("shared/pointer", "32", "dense", "yes")
    o.v("c5.objects", int_txt(n))
    o.v("c5.objbytes", fmt(ob, 0))
    o.v("c5.inline", fmt(inl.value, 1) if inl else "--")
    o.v("c5.shared", fmt(sh.value, 1) if sh else "--")
    o.v("c5.sharedlay", tex(R.layout(sh.row)) if sh else "--")
    o.v("c5.shared64", fmt(sh64.value, 1) if sh64 else "--")
    o.v("c5.frozen", fmt(fz.value, 2) if fz else "--")
    o.v("c5.sharedfrozen", fmt(shfz.value, 2) if shfz else "--")
    si, ss = g("inline", "32", "sparse", "no"), g("shared/pointer", "32", "sparse", "no")
    o.v("c5.sparseinline", fmt(si.value, 1) if si else "--")
    o.v("c5.sparseshared", fmt(ss.value, 1) if ss else "--")
    stride = R.params(si.row).get("stride", "") if si else ""
    o.v("c5.stride", tex(stride) if stride else "--")
    nz = g("inline", "32", "noop", "no")
    o.v("c5.noop", fmt(nz.value, 2) if nz else "--")
    frozen_case = fz if fz else shfz

    bits_all = sorted({b for _, b in lays if b})
    fig, axes = plt.subplots(1, len(bits_all), figsize=(7, 2.6), squeeze=False, sharey=True)
    keys = [(w, f) for w in walks for f in ("no", "yes") if any(r["variant"] == w and R.get(r, "frozen") == f for r in pct)]
    for ax, b in zip(axes[0], bits_all):
        ls = [lay for lay, bb in lays if bb == b]
        w = 0.8 / max(1, len(keys))
        for i, (walk, f) in enumerate(keys):
            ys = []
            for lay in ls:
                x = g(lay, b, walk, f)
                ys.append(x.value if x else float("nan"))
            ax.bar([j + (i - (len(keys) - 1) / 2) * w for j in range(len(ls))], ys, width=w,
                   label=f"{walk}{' frozen' if f == 'yes' else ''}")
        ax.set_xticks(range(len(ls)), ls, fontsize=6, rotation=20)
        ax.set_title(f"{b}-bit counts")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("% of heap pages made private")
    legend_outside(axes[0][-1])
    o.figure("fig-c5", fig)


def c5_memory(allr, o):
    """C5 in physical memory: Pss and Rss summed over the parent and the workers, and the freeze sweep."""
    meds = R.summaries(allr)
    fam = [r for r in meds if r["metric"] == "pss_total_kib"]
    sweep = [r for r in meds if r["metric"] == "freeze_ms_per_million_objects"]
    if not fam and not sweep:
        o.table("tab-c5mem", no_data_table("cow Pss/Rss and freeze sweep (older result set)"))
        for k in ("pssinline", "pssshared", "pssnoop", "workers", "sweepmin", "sweepmax"):
            o.v("c5mem." + k, "--")
        return
    rows = []
    for r in sorted(fam, key=lambda r: (lay_key(R.layout(r)), r["slot_bits"], r["variant"], R.get(r, "frozen"))):
        want = dict(layout=R.layout(r), slot_bits=r["slot_bits"], variant=r["variant"], frozen=R.get(r, "frozen"))
        rss = R.one(meds, metric="rss_total_kib", **want)
        pdw = R.one(meds, metric="private_dirty_workers_kib", **want)
        sw = R.one(sweep, layout=R.layout(r), slot_bits=r["slot_bits"]) if R.get(r, "frozen") == "yes" else None
        rows.append([tex(R.layout(r)), tex(r["slot_bits"]), tex(r["variant"]), tex(R.get(r, "frozen")),
                     fmt(R.num(r["value"]) / 1024), fmt(rss.value / 1024) if rss else "--",
                     fmt(pdw.value / 1024) if pdw else "--", fmt(sw.value) if sw else ""])
    o.table("tab-c5mem", tabular("llllrrrr", ["layout", "slot bits", "walk", "frozen", "Pss MiB", "Rss MiB",
                                              "workers' private dirty MiB", "freeze ms/M obj"], rows,
                                 "Parent + workers alive at once, each after the walk; Pss and Rss summed over "
                                 "\\texttt{/proc/<pid>/smaps\\_rollup}. A frozen heap tracks its objects (a registry), "
                                 "so its absolute figures are not comparable with the unfrozen rows. Freeze sweep: wall "
                                 "time of \\texttt{rca\\_heap\\_freeze} per million objects, one sweep per heap."))
    g = lambda lay, walk: R.one(fam, layout=lay, slot_bits="32", variant=walk, frozen="no")  # noqa: E731
    for key, lay, walk in (("pssinline", "inline", "dense"), ("pssshared", "shared/pointer", "dense"),
                           ("pssnoop", "inline", "noop")):
        x = g(lay, walk)
        o.v("c5mem." + key, fmt(x.value / 1024) if x else "--")
    o.v("c5mem.workers", tex(R.get(fam[0], "workers_alive_at_once")) if fam else "--")
    vals = [R.num(r["value"]) for r in sweep]
    o.v("c5mem.sweepmin", fmt(min(vals)) if vals else "--")
    o.v("c5mem.sweepmax", fmt(max(vals)) if vals else "--")


def c5_vm(o, vm):
    """C5 in real VMs: Duktape prefork per placement, frozen or not; CPython's inline anchor."""
    pct = [r for r in vm if r["metric"] == "heap_private_pct"]
    if not pct:
        o.table("tab-c5vm", no_data_table("vm prefork (C5 in Duktape and CPython)"))
        for k in ("inline", "shared", "sharedfrozen", "inlinefrozen", "cpython", "pymalloc", "records", "pyobjects"):
            o.v("c5vm." + k, "--")
        return
    rows = []
    for r in sorted(pct, key=lambda r: (R.get(r, "vm"), r.get("variant", ""), lay_key(R.layout(r)), R.get(r, "frozen"),
                                        R.get(r, "gc_freeze"))):
        s = R.Series(r)
        # CPython builds from source run with and without gc.freeze() (gc_freeze), which freezes
        # no count: both rows say frozen=0, the column tells them apart.
        same = dict(variant=r["variant"], placement=r["placement"], frozen=R.get(r, "frozen"), vm=R.get(r, "vm"),
                    gc_freeze=R.get(r, "gc_freeze"))
        objp = R.one([x for x in vm if x["metric"] == "object_pages_private"], **same)
        rcp = R.one([x for x in vm if x["metric"] == "refcount_pages_private"], **same)
        frozen = "yes" if R.get(r, "frozen") == "1" else "gc.freeze" if R.get(r, "gc_freeze") == "1" else "no"
        rows.append([tex(R.get(r, "vm")), tex(r.get("variant", "")), tex(r["placement"]), tex(frozen), fmt(s.value, 2),
                     (fmt(objp.value, 0) if objp else "--") + " / " + (fmt(rcp.value, 0) if rcp else "--")])
    o.table("tab-c5vm", tabular("lllrrr", ["VM", "build", "placement", "frozen", "heap private \\%", "obj / rc pages"], rows,
                                "Per worker, median over the workers; each worker only reads the data set built "
                                "before the fork."))

    def g(vmn, variant, placement, frozen):
        return R.one(pct, vm=vmn, variant=variant, placement=placement, frozen=frozen)
    for key, args in (("inline", ("duktape", "inline-freeze", "inline", "0")), ("shared", ("duktape", "idx-freeze", "shared", "0")),
                      ("sharedfrozen", ("duktape", "idx-freeze", "shared", "1")),
                      ("inlinefrozen", ("duktape", "inline-freeze", "inline", "1")),
                      ("cpython", ("cpython", "cpython-on-rca", "inline", "0")),
                      ("pymalloc", ("cpython", "cpython-pymalloc", "inline", "0"))):
        x = g(*args)
        o.v("c5vm." + key, fmt(x.value, 1) if x else "--")
    any_d = [r for r in pct if R.get(r, "vm") == "duktape"]
    any_p = [r for r in pct if R.get(r, "vm") == "cpython"]
    o.v("c5vm.records", int_txt(R.num(R.get(any_d[0], "records"))) if any_d else "--")
    o.v("c5vm.pyobjects", int_txt(R.num(R.get(any_p[0], "records"))) if any_p else "--")


# ---- C6: ipc -----------------------------------------------------------------------------------

def c6(d, o):
    allr = R.load(d, "ipc")
    nb = R.summaries(allr, "ns_per_byte")
    if not nb:
        o.missing.append("ipc")
        o.table("tab-c6", no_data_table("ipc (C6)"))
        o.empty_figure("fig-c6", "no ipc rows")
        for k in ("pipe", "min", "max", "bytes", "nodes", "serobj", "deserobj", "rawmbps"):
            o.v("c6." + k, "--")
        c6_pickle(d, o)
        return
    per_obj = R.summaries(allr, "ns_per_object")
    mbps = R.summaries(allr, "throughput")
    ser = R.summaries(allr, "serialise_ns_per_object")
    deser = R.summaries(allr, "deserialise_ns_per_object")
    transports = []
    for r in nb:
        t = R.get(r, "transport")
        if t not in transports:
            transports.append(t)
    ratios = {}
    table_rows = []
    for t in transports:
        raw, sr = R.one(nb, transport=t, variant="raw"), R.one(nb, transport=t, variant="serialised")
        rawo, sro = R.one(per_obj, transport=t, variant="raw"), R.one(per_obj, transport=t, variant="serialised")
        rm = R.one(mbps, transport=t, variant="raw")
        if not raw or not sr:
            continue
        ratio = sr.value / raw.value
        ratios[t] = ratio
        table_rows.append([tex(t), fmt(raw.value), fmt(sr.value), ratio_txt(ratio) + noise_mark(sr, raw),
                           fmt(rawo.value) if rawo else "--", fmt(sro.value) if sro else "--",
                           fmt(rm.value) if rm else "--"])
    o.table("tab-c6", tabular("lrrrrrr", ["transport", "raw ns/B", "serialised ns/B", "ratio", "raw ns/obj",
                                          "serialised ns/obj", "raw MB/s"], table_rows,
                              "Serialised = serialise + send + deserialise of an object graph of the same byte count. "
                              "$^\\dagger$: ranges overlap."))
    o.v("c6.pipe", ratio_txt(ratios.get("pipe", float("nan"))))
    o.v("c6.min", ratio_txt(min(ratios.values())) if ratios else "--")
    o.v("c6.max", ratio_txt(max(ratios.values())) if ratios else "--")
    r0 = nb[0]
    o.v("c6.bytes", size_txt(R.num(r0["working_set_bytes"])))
    o.v("c6.nodes", int_txt(R.num(r0["objects"])))
    s0 = R.one(ser, variant="serialised")
    d0 = R.one(deser, variant="serialised")
    o.v("c6.serobj", fmt(s0.value) if s0 else "--")
    o.v("c6.deserobj", fmt(d0.value) if d0 else "--")
    rm = [R.Series(r).value for r in mbps if r["variant"] == "raw"]
    o.v("c6.rawmbps", fmt(max(rm)) if rm else "--")
    o.v("c6.limit", fmt(T_C6, 0))
    c6_pickle(d, o)

    fig, ax = plt.subplots(figsize=(5, 2.4))
    for i, mode in enumerate(("raw", "serialised")):
        ss = [R.one(nb, transport=t, variant=mode) for t in transports]
        ys = [s.value if s else float("nan") for s in ss]
        ax.bar([j + (i - 0.5) * 0.4 for j in range(len(transports))], ys, width=0.4, label=mode,
               yerr=yerr(ys, ss), capsize=1.5)
    ax.set_yscale("log")
    ax.set_xticks(range(len(transports)), transports)
    ax.set_ylabel("ns per byte (log; 95 % CI)")
    legend_outside(ax)
    o.figure("fig-c6", fig)


def c6_pickle(d, o):
    """C6 with Python's own pickle (rcalab vm, CPython host): round trip and per-object costs."""
    vm = [r for r in R.summaries(R.load(d, "vm")) if r.get("claim") == "C6"]
    p = R.one(vm, variant="pickle", metric="round_trip_ns")
    raw = R.one(vm, variant="raw", metric="round_trip_ns")
    dumps = R.one(vm, variant="pickle", metric="serialise_ns_per_object")
    loads = R.one(vm, variant="pickle", metric="deserialise_ns_per_object")
    o.v("c6py.ratio", ratio_txt(p.value / raw.value) if p and raw else "--")
    o.v("c6py.pickle", fmt(p.value / 1e6) if p else "--")
    o.v("c6py.raw", fmt(raw.value / 1e6) if raw else "--")
    o.v("c6py.dumps", fmt(dumps.value) if dumps else "--")
    o.v("c6py.loads", fmt(loads.value) if loads else "--")
    o.v("c6py.objects", int_txt(R.num(p.row["objects"])) if p else "--")
    o.v("c6py.bytes", size_txt(R.num(p.row["working_set_bytes"])) if p else "--")


# ---- C7: whole VM ------------------------------------------------------------------------------

def c7(d, o):
    allr = R.load(d, "vm")
    # Duktape's table and figure; CPython's rows (vm=cpython) are judged by verdicts.py's
    # cpython rules and not mixed into Duktape's programs and baseline.
    c7r = [r for r in allr if r.get("claim") == "C7" and R.get(r, "vm") != "cpython"]
    ratios = [r for r in c7r if r.get("stat") == "ratio" and r.get("metric") == "time_vs_inline"]
    geos = [r for r in c7r if r.get("stat") == "geomean" and r.get("metric") == "time_vs_inline"]
    # The VM's time: CPU time of the VM process when rcalab vm records it, else its wall time.
    time_metric = next((m for m in ("run_cpu_ms", "run_ms", "run_wall_ms")
                        if any(r.get("metric") == m and r.get("stat") == "median" for r in c7r)), "run_cpu_ms")
    meds = [r for r in c7r if r.get("stat") == "median" and r.get("metric") == time_metric]
    o.v("c7.method", tex(meds[0]["method"]) if meds else "--")
    o.v("c7.metric", tex(time_metric))
    c7_sim(o, c7r)
    c7_cpython_sim(o, [r for r in allr if r.get("claim") == "C7" and R.get(r, "vm") == "cpython"])
    keys = ("idx", "idxfreeze", "freeze", "ptr", "thread", "padded", "baseline", "programs", "beyond", "worst",
            "worstprog", "best", "bestprog", "verdictcounts", "verdictfreeze")
    if not meds:
        o.missing.append("vm")
        o.table("tab-c7", no_data_table("vm (C7)"))
        o.empty_figure("fig-c7", "no vm rows (rcalab vm)")
        for k in keys:
            o.v("c7." + k, "--")
        o.v("c7.method", "--")
        o.v("c7.metric", "--")
        o.v("c7.limit", fmt(T_C7, 2))
        o.v("c7.limitfreeze", fmt(T_C7_FREEZE, 2))
        return
    configs = []
    for r in meds:
        c = (r["variant"], r["placement"])
        if c not in configs:
            configs.append(c)
    programs = []
    for r in meds:
        p = R.get(r, "program")
        if p not in programs:
            programs.append(p)
    baseline = R.get(geos[0], "baseline") if geos else "inline-nofreeze/inline"
    bv, bp = baseline.split("/") if "/" in baseline else (baseline, "inline")
    o.v("c7.baseline", tex(baseline))

    def med(c, p):
        return R.one(meds, variant=c[0], placement=c[1], program=p)
    # One row per build, one column per program (+ geomean, programs beyond the noise).
    beyond = defaultdict(int)
    cell = {}
    for p in programs:
        b = med((bv, bp), p)
        for c in configs:
            x = med(c, p)
            if not b or not x or c == (bv, bp):
                continue
            cell[(c, p)] = ratio_txt(x.value / b.value) + noise_mark(x, b)
            if R.beyond_noise(x, b):
                beyond[c] += 1
    geo = {}
    for c in configs:
        g = R.one(geos, variant=c[0], placement=c[1])
        if g:
            geo[c] = g.value
        else:  # recompute from the medians when the geomean row is absent
            rs = [med(c, p).value / med((bv, bp), p).value for p in programs if med(c, p) and med((bv, bp), p)]
            geo[c] = math.exp(statistics.fmean(math.log(x) for x in rs)) if rs else float("nan")
    header = ["build"] + [tex(p.replace(".js", "")) for p in programs] + ["geomean", "beyond noise"]
    table_rows = [["baseline ms"] + [fmt(med((bv, bp), p).value) if med((bv, bp), p) else "--" for p in programs] + ["", ""],
                  "mid"]
    for c in configs:
        if c == (bv, bp):
            continue
        table_rows.append([tex(f"{c[0]}/{c[1]}")] + [cell.get((c, p), "--") for p in programs] +
                          [ratio_txt(geo[c]), f"{beyond[c]}/{len(programs)}"])
    o.table("tab-c7", tabular("l" + "r" * (len(header) - 1), header, table_rows) +
            "\\tabnote{The VM's time for compile + run of each program; each cell is the build's median over the "
            "baseline's (Duktape as shipped: inline count, no freeze check). idx/ptr: 32-bit index or pointer handle; "
            "freeze: the frozen-count check compiled in. $^\\dagger$: ranges overlap.}\n")

    def gv(v, p):
        return geo.get((v, p), float("nan"))
    o.v("c7.idx", ratio_txt(gv("idx-nofreeze", "shared")))
    o.v("c7.idxfreeze", ratio_txt(gv("idx-freeze", "shared")))
    o.v("c7.freeze", ratio_txt(gv("inline-freeze", "inline")))
    o.v("c7.ptr", ratio_txt(gv("ptr-nofreeze", "shared")))
    o.v("c7.thread", ratio_txt(gv("idx-nofreeze", "thread")))
    o.v("c7.padded", ratio_txt(gv("idx-nofreeze", "padded")))
    o.v("c7.programs", str(len(programs)))
    o.v("c7.limit", fmt(T_C7, 2))
    o.v("c7.limitfreeze", fmt(T_C7_FREEZE, 2))
    # Per-program extremes for the idx/shared build.
    per = []
    for p in programs:
        x, b = med(("idx-nofreeze", "shared"), p), med((bv, bp), p)
        if x and b:
            per.append((x.value / b.value, p))
    if per:
        o.v("c7.worst", ratio_txt(max(per)[0]))
        o.v("c7.worstprog", tex(max(per)[1]))
        o.v("c7.best", ratio_txt(min(per)[0]))
        o.v("c7.bestprog", tex(min(per)[1]))
    else:
        for k in ("worst", "worstprog", "best", "bestprog"):
            o.v("c7." + k, "--")
    o.v("c7.beyond", f"{beyond[('idx-nofreeze', 'shared')]}/{len(programs)}")


    fig, ax = plt.subplots(figsize=(7, 2.8))
    cs = [c for c in configs if c != (bv, bp)]
    w = 0.8 / max(1, len(cs))
    for i, c in enumerate(cs):
        ys, lo, hi = [], [], []
        for p in programs:
            x, b = med(c, p), med((bv, bp), p)
            y = x.value / b.value if x and b else float("nan")
            a_, b_ = (V.bootstrap_ratio(ROWS.raw_values(x.row), ROWS.raw_values(b.row), paired=True)
                      if x and b and ROWS is not None else (y, y))
            ys.append(y)
            lo.append(max(0.0, y - a_) if not R.isna(a_) else 0.0)
            hi.append(max(0.0, b_ - y) if not R.isna(b_) else 0.0)
        ys.append(geo[c])
        lo.append(0.0)
        hi.append(0.0)
        ax.bar([j + (i - (len(cs) - 1) / 2) * w for j in range(len(programs) + 1)], ys, width=w, label=f"{c[0]}/{c[1]}",
               yerr=[lo, hi], capsize=1, error_kw={"lw": 0.6})
    ax.axhline(1.0, color="black", lw=0.6)
    ax.axhline(T_C7, color="red", lw=0.6, ls="--")
    ax.set_xticks(range(len(programs) + 1), [p.replace(".js", "") for p in programs] + ["geomean"], fontsize=6.5)
    ax.set_ylabel(f"time / {baseline}")
    lo = min([v for v in geo.values() if not R.isna(v)] + [0.9])
    ax.set_ylim(max(0, lo - 0.1), None)
    ax.set_ylabel(f"time / {baseline} (95 % CI)")
    legend_outside(ax, fontsize=5.5)
    o.figure("fig-c7", fig)


def c7_sim(o, c7r):
    """C7 simulated: cachegrind instructions and D1/LL misses per build, geomean over the programs."""
    sim = [r for r in c7r if r.get("stat") == "geomean" and r.get("metric", "").endswith("_vs_inline")
           and r.get("metric") != "time_vs_inline"]
    keys = ("instructions", "d1_misses", "ll_misses")
    if not sim:
        o.table("tab-c7sim", no_data_table("vm C7 under cachegrind"))
        for k in keys:
            o.v("c7sim." + k, "--")
        o.v("c7sim.method", "not run")
        return
    configs = []
    for r in sim:
        c = (r["variant"], r["placement"])
        if c not in configs:
            configs.append(c)
    rows = []
    for c in configs:
        cells = [tex(f"{c[0]}/{c[1]}")]
        for k in keys:
            x = R.one(sim, variant=c[0], placement=c[1], metric=k + "_vs_inline")
            cells.append(ratio_txt(x.value) if x else "--")
        rows.append(cells)
    o.table("tab-c7sim", tabular("lrrr", ["build", "instructions", "D1 misses", "LL misses"], rows,
                                 "Geometric mean over the programs of each count over the baseline's, one cachegrind "
                                 "run per build and program (" + tex(sim[0]["method"]) + ")."))
    for k in keys:
        x = R.one(sim, variant="idx-nofreeze", placement="shared", metric=k + "_vs_inline")
        o.v("c7sim." + k, ratio_txt(x.value) if x else "--")
    o.v("c7sim.method", tex(sim[0]["method"]))


def c7_cpython_sim(o, rows):
    """CPython's C7s (rcalab vm py7s): each program's instructions net of its size-0 run, per build
    over the unpatched build's (cpython-inline), and the geomean. Builds without rows are left
    out; a result set without py7s rows (the quick CI sample) says so."""
    raw = [r for r in rows if r.get("stat") == "raw" and r.get("metric") == "instructions"
           and R.get(r, "method").startswith("cachegrind")]
    net = {}
    programs, builds = [], []
    for r in raw:
        p = R.get(r, "program").replace(".py", "")
        b = r["variant"].replace("cpython-", "")
        net[(b, p)] = R.num(r["value"])
        if p not in programs:
            programs.append(p)
        if b not in builds:
            builds.append(b)
    keys = ("idx", "idxfreeze", "ptr", "ptrfreeze", "stock", "freezecheck", "legacy", "legacycost")
    if "inline" not in builds:
        o.table("tab-c7py", no_data_table("rcalab vm py7s (CPython under cachegrind)"))
        for k in keys:
            o.v("c7py." + k, "--")
        return
    order = ["idx-nofreeze", "idx-freeze", "idx-freeze-legacy", "ptr-nofreeze", "ptr-freeze", "stock"]
    builds = [b for b in order if b in builds] + [b for b in builds if b not in order and b != "inline"]
    geo = {}
    table_rows = []
    for b in builds:
        rs = [net[(b, p)] / net[("inline", p)] for p in programs
              if (b, p) in net and ("inline", p) in net and net[("inline", p)] > 0 and net[(b, p)] > 0]
        geo[b] = math.exp(statistics.fmean(math.log(x) for x in rs)) if rs else float("nan")
        table_rows.append([tex(b)] + [ratio_txt(net[(b, p)] / net[("inline", p)])
                                      if (b, p) in net and ("inline", p) in net else "--"
                                      for p in programs] + [ratio_txt(geo[b])])
    header = ["build"] + [tex(p) for p in programs] + ["geomean"]
    o.table("tab-c7py", tabular("l" + "r" * (len(header) - 1), header, table_rows,
                                "Instructions of each program net of the same program at size 0 "
                                "(interpreter start and imports), over the unpatched build's "
                                "(inline), one cachegrind run each. idx/ptr: index or pointer "
                                "handle in ob\\_refcnt's place; freeze: the frozen-count check "
                                "compiled in; stock: Debian's python3.11 (PGO and LTO)."))
    o.v("c7py.idx", ratio_txt(geo.get("idx-nofreeze", float("nan"))))
    o.v("c7py.idxfreeze", ratio_txt(geo.get("idx-freeze", float("nan"))))
    o.v("c7py.ptr", ratio_txt(geo.get("ptr-nofreeze", float("nan"))))
    o.v("c7py.ptrfreeze", ratio_txt(geo.get("ptr-freeze", float("nan"))))
    o.v("c7py.stock", ratio_txt(geo.get("stock", float("nan"))))
    f, n = geo.get("idx-freeze", float("nan")), geo.get("idx-nofreeze", float("nan"))
    o.v("c7py.freezecheck", pct_txt(100 * (f / n - 1)) if not R.isna(f) and not R.isna(n) else "--")
    # The layout that survives legacy count writes, over the same build without it.
    lg = geo.get("idx-freeze-legacy", float("nan"))
    o.v("c7py.legacy", ratio_txt(lg))
    o.v("c7py.legacycost", pct_txt(100 * (lg / f - 1)) if not R.isna(lg) and not R.isna(f) else "--")


def c8_cpython(d, o):
    """C8 (rcalab vm py8): what an extension built against stock 3.11 headers does to each CPython
    build, per scenario (ok, wrong counts, crash, error). A fact per build: no verdict."""
    rows = [r for r in R.load(d, "vm") if r.get("claim") == "C8" and r.get("metric") == "c8_ok"
            and r.get("stat") == "raw"]
    if not rows:
        o.table("tab-c8py", no_data_table("rcalab vm py8 (C8)"))
        o.v("c8py.legacy", "--")
        return
    scenarios, builds, cell = [], [], {}
    for r in rows:
        b, sc = r["variant"].replace("cpython-", ""), R.get(r, "scenario")
        scenarios += [sc] if sc not in scenarios else []
        builds += [b] if b not in builds else []
        cell[(b, sc)] = R.get(r, "outcome")
    order = ["stock", "inline", "idx-nofreeze", "idx-freeze", "idx-freeze-legacy", "ptr-nofreeze",
             "ptr-freeze"]
    builds = [b for b in order if b in builds] + [b for b in builds if b not in order]
    o.table("tab-c8py", tabular("l" + "l" * len(scenarios), ["build"] + [tex(x) for x in scenarios],
                                [[tex(b)] + [tex(cell.get((b, x), "--")) for x in scenarios]
                                 for b in builds],
                                "An extension built against Debian's stock 3.11 headers (Py\_INCREF "
                                "as ob\_refcnt++) in each build: touch, balanced increments and "
                                "decrements; hold, a reference kept in C, then released; none, "
                                "Py\_RETURN\_NONE; outlive, the interpreter's last reference goes "
                                "while the extension holds one. ok, wrong (counts), crash (a signal), "
                                "error (an exit status)."))
    lg = [cell[k] for k in cell if k[0] == "idx-freeze-legacy"]
    o.v("c8py.legacy", f"{sum(x == 'ok' for x in lg)} of {len(lg)}" if lg else "--")


# ---- alloc and micro (context) -----------------------------------------------------------------

def alloc(d, o):
    rows = R.summaries(R.load(d, "alloc"), "objects_per_s")
    if not rows:
        o.table("tab-alloc", no_data_table("alloc"))
        return
    out = []
    for r in sorted(rows, key=lambda r: (R.num(r["threads"]), r["variant"], r["placement"], r["backend"])):
        s = R.Series(r)
        out.append([tex(r["variant"]), tex(r["placement"]), tex(r["backend"]), tex(r["threads"]), fmt(s.value / 1e6),
                    f"{fmt(s.min / 1e6)}..{fmt(s.max / 1e6)}"])
    o.table("tab-alloc", tabular("lllrrr", ["kind", "placement", "object memory", "threads", "M obj/s", "min..max"], out))


def micro(d, o):
    path = os.path.join(d, "micro.json")
    if not os.path.exists(path):
        o.table("tab-micro", "\\emph{The Google Benchmark microbenchmarks (\\texttt{make -f Makefile.perf micro}) are "
                "not part of this result set.}\n")
        o.v("micro.ctx", "not run")
        return
    with open(path) as f:
        j = json.load(f)
    ctx = j.get("context", {})
    o.v("micro.ctx", tex(f"library_build_type={ctx.get('library_build_type', '?')}"))
    out = []
    for b in j.get("benchmarks", []):
        if b.get("aggregate_name") == "median":
            out.append([tex(b.get("run_name", b["name"])), fmt(float(b.get("real_time", float("nan")))),
                        tex(b.get("time_unit", ""))])
    o.table("tab-micro", tabular("lrl", ["benchmark", "median time", "unit"], out) if out else no_data_table("micro"))


def rules_table(o):
    """Every rule of the engine: claim, what it compares, limit, the limit's source, its verdict."""
    rows = []
    for claim in CLAIMS:
        for rr in o.engine[claim]["rules"]:
            r = rr["rule"]
            brk = lambda x: tex(x).replace("\\_", "\\_\\allowbreak{}")  # noqa: E731
            rows.append([claim, brk(r["id"]) + ("" if r["decides"] else "$^*$"), tex(V.rule_text(r)) + f" (source: {tex(r['source'])})",
                         brk(", ".join(r["deterministic"]) or "--"), brk(", ".join(r["time"]) or "--"),
                         tex(rr["verdict"]), tex(rr["proportion"])])
    rr_ = ">{\\raggedright\\arraybackslash}"
    o.table("tab-rules", "\\begin{tabular}{@{}l" + rr_ + "p{1.5cm}" + rr_ + "p{3.6cm}" + rr_ + "p{1.9cm}" + rr_ + "p{1.7cm}" + rr_ + "p{1.55cm}" + rr_ +
            "p{2.9cm}@{}}\n\\toprule\nclaim & rule & compares, limit & decides by & time beside & verdict & proportion \\\\\n"
            "\\midrule\n" + "\\\\\n".join(" & ".join(x) for x in rows) + "\\\\\n\\bottomrule\n\\end{tabular}\n")
    src = []
    for key, text in V.SOURCES.items():
        src.append(f"\\item[{tex(key)}] {tex(text)}")
    o.v("rules.sources", "\\begin{description}\\itemsep0pt\\small " + " ".join(src) + "\\end{description}")


def summary_table(o):
    rows = []
    for c, (quote, exp, fig) in CLAIMS.items():
        v = o.verdicts.get(c, {"verdict": "no data", "headline": ""})
        rows.append([c, "\\emph{``" + tex(quote) + "''}", "\\textbf{" + tex(v["verdict"]) + "}",
                     f"Fig.~\\ref{{{fig}}}", v["headline"]])
    rr = ">{\\raggedright\\arraybackslash}"
    o.table("tab-verdicts", "\\begin{tabular}{l" + rr + "p{3.4cm}" + rr + "p{2.6cm}l" + rr + "p{6.2cm}}\n\\toprule\nclaim & words tested & verdict & "
            "figure & the data behind it \\\\\n\\midrule\n" + "\\\\\n".join(" & ".join(r) for r in rows) +
            "\\\\\n\\bottomrule\n\\end{tabular}\n")


# Which experiment's rows each group of values comes from.
PREFIX_EXPERIMENT = {"c1": "indirection", "c2": "freeze", "c3": "threads", "c4": "aliasing", "c5": "cow", "c5vm": "vm",
                     "c6": "ipc", "c7": "vm", "c7sim": "vm"}


def fill_missing(o, tex_path):
    """Values the text cites from an experiment that has no rows in this set print as '--'.
    Values of experiments that do have rows are never filled: check.py reports them."""
    import re
    if not os.path.exists(tex_path):
        return
    text = open(tex_path).read()
    for key in set(re.findall(r"\\rv\{([^}#]*)\}", text)):
        prefix = key.split(".", 1)[0]
        if key not in o.values and PREFIX_EXPERIMENT.get(prefix) in o.missing:
            o.v(key, "--")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    d, out_dir = argv[1], argv[2]
    if not os.path.isdir(d):
        print(f"gen.py: no result set at {d}", file=sys.stderr)
        return 2
    label = os.path.basename(os.path.normpath(d))
    o = Out(out_dir)
    global ROWS
    ROWS = V.Rows(d)
    environment(d, o, label)
    machines(os.path.dirname(os.path.normpath(d)), o, label)
    for f in (c1, c2, c3, c4, c4_asm, c5, c6, c7, c8_cpython, alloc, micro):
        f(d, o)
    engine_verdicts(o, d)
    rules_table(o)
    o.v("c7.verdictcounts", o.values["c7.counts.outcome"])
    o.v("c7.verdictfreeze", o.values["c7.freeze.outcome"])
    hop = next(rr for rr in o.engine["C1"]["rules"] if rr["rule"]["id"] == "hop")["comparisons"]
    o.v("c1.ok", str(sum(c["outcome"] == "within" for c in hop)))
    o.v("c1.cells", str(len(hop)))
    summary_table(o)
    fill_missing(o, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rca.tex"))
    with open(os.path.join(out_dir, "values.tex"), "w") as f:
        f.write("% generated by papers/tools/gen.py from " + d + ": do not edit\n")
        for k in sorted(o.values):
            f.write("\\rvdef{" + k + "}{" + o.values[k] + "}\n")
    with open(os.path.join(out_dir, "values.json"), "w") as f:
        json.dump(o.values, f, indent=1, sort_keys=True)
    with open(os.path.join(out_dir, "verdicts.txt"), "w") as f:
        for c in CLAIMS:
            v = o.verdicts.get(c)
            if v:
                f.write(f"{c}: {v['verdict']} -- {v['evidence']} (figure {v['figure']})\n    rule: {v['rule']}\n")
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"results": d, "label": label, "tables": o.tables, "figures": o.figures, "listings": o.listings, "missing": o.missing,
                   "values": len(o.values)}, f, indent=1)
    print(f"gen.py: {len(o.values)} values, {len(o.tables)} tables, {len(o.figures)} figures from {d}"
          + (f"; no rows for: {', '.join(o.missing)}" if o.missing else ""))
    for c in CLAIMS:
        v = o.verdicts.get(c)
        if v:
            print(f"  {c}: {v['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
