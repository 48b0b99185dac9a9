#!/usr/bin/python3
"""The one verdict engine: one table of rules (RULES) judged on one result set's rows.

rcalab's claim table (`rcalab all`, experiments/rcalab/main.cpp runs this file on its results
folder) and the paper (papers/tools/gen.py imports it) both take their verdicts from here, so the
two cannot disagree. Standard library only: rcalab runs it without matplotlib.

Usage: verdicts.py RESULTS_DIR [--csv FILE] [--json FILE]   (prints the claim table)

A rule compares a subject configuration with a baseline configuration, both given as structured
fields (placement, handle, slot_bits, variant, program, ...: columns or params of the rows), once
for every value of the fields in `across` (working set, order, thread count, program, ...). Each
comparison is a ratio subject/baseline (or, for kind="value", the subject's own value) and its
outcome against the rule's limit:
  within  - inside the limit: for a deterministic measure (instructions, simulated misses, pages)
            the value itself; for a time, the whole 95 % bootstrap interval of the ratio;
  against - outside the limit: the value, or the whole interval;
  unclear - a time whose interval straddles the limit.
Deterministic measures decide where the rows have them; the time ratio is reported beside with
its interval, and a time difference is "beyond the noise" only when its interval excludes 1.

The interval: 2000 bootstrap resamples of the repetitions (paired by repetition index when the two
series were interleaved, rep i of both run back to back; independently otherwise), the ratio of
the resampled medians, percentiles 2.5 and 97.5. Fixed seed: the same rows give the same interval.

A claim's verdict pools the comparisons of its deciding rules: "supported" (all within),
"not supported" (all against), "inconclusive" (none against, some unclear), "mixed" (some within,
some against), "no data"; always with the proportion (k of n within, how many beyond the noise).
Rules with decides=False are reported (e.g. a microbenchmark as an upper bound) but do not vote.
"""
import json
import math
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20150101
CONFIDENCE = 0.95

# Where each limit comes from (printed in the paper beside the rule).
SOURCES = {
    "pep683": "PEP 683 (immortal objects): the check's cost was accepted for CPython only once it was "
              "within about 2 % on the pyperformance suite; a smaller cost is what `little impact' "
              "means to CPython's core developers.",
    "noise": "this machine's floor: identical code differs by 5-18 % between timed runs; a factor of "
             "1.2 is the smallest difference time alone could establish here, so `should not matter "
             "much' is read as within 1.2x.",
    "dirty": "a read-only child that dirties at least half of the heap's pages has defeated "
             "copy-on-write sharing (`will just dirty the page'); out-of-line counts must save most "
             "of it: at most a quarter of inline's share.",
    "frozen": "a frozen heap is meant to stay shared: at most 1 % of its pages private in every "
              "worker (the page-table and stack noise of a fork child, measured by the no-op child, is "
              "below that).",
    "huge": "`huge compared to the low-level IPC': serialising must at least double the cost of "
            "sending the same bytes raw.",
    "sharing": "`mostly if multiple threads access the same page': shared pages must be slower than "
               "per-thread pages beyond the noise (interval of the ratio above 1).",
    "issue13": "the targets set for CPython 3.11 with out-of-line counts (issue 13, from PEP 683's and "
               "Instagram's experience): instructions at most +5 % over the same source unpatched; a frozen "
               "heap at most 0.5 % private per read-only worker (stock 3.11: about 91 %); a worker's private "
               "pages at most 1.1x the refcount pages it touches.",
}


def rule(claim, rid, experiment, text, subject, baseline=None, where=None, across=(), deterministic=(),
         time=(), direction="at_most", limit=1.0, source="noise", kind="ratio", stat="value",
         decides=True):
    """One rule. subject/baseline/where: {field: value or (op, value)} on columns or params."""
    return dict(claim=claim, id=rid, experiment=experiment, text=text, subject=subject,
                baseline=baseline or {}, where=where or {}, across=tuple(across),
                deterministic=tuple(deterministic), time=tuple(time), direction=direction,
                limit=limit, source=source, kind=kind, stat=stat, decides=decides)


SIM = ("instructions", "d1_misses", "ll_misses")

RULES = (
    rule("C1", "hop", "indirection", "pointer hop (shared pages, 32-bit slots) over an inline count",
         {"placement": "shared", "handle": "pointer", "slot_bits": 32}, {"placement": "inline"},
         where={"semantics": "plain"}, across=("variant", "working_set_bytes"),
         deterministic=("sim_cycles_per_op",),
         time=("cpu_ns_per_op", "ns_per_op"), limit=1.20, source="noise"),
    rule("C2", "vm", "vm", "Duktape with the freeze check over Duktape without it, per program",
         {"claim": "C7", "variant": "inline-freeze", "placement": "inline"},
         {"claim": "C7", "variant": "inline-nofreeze", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), limit=1.02, source="pep683"),
    rule("C2", "micro", "freeze", "freeze check + expect over no check, 0 % frozen "
         "(microbenchmark: an upper bound, about 2 cycles per operation)",
         {"variant": "check_expect"}, {"variant": "no_check"}, where={"frozen_pct": 0},
         across=("placement", "handle", "working_set_bytes", "semantics"),
         time=("cpu_ns_per_op", "ns_per_op"), limit=1.02, source="pep683", decides=False),
    rule("C3", "own", "threads", "per-thread refcount pages over inline counts, own objects",
         {"placement": "thread", "handle": "pointer"}, {"placement": "inline"},
         where={"variant": "own_objects"}, across=("threads", "semantics"),
         deterministic=("sim_cycles_per_op",), time=("ns_per_op",), limit=1.20, source="noise"),
    rule("C3", "sharing", "threads", "shared refcount pages over per-thread pages, own objects, 2+ threads",
         {"placement": "shared", "handle": "pointer"}, {"placement": "thread", "handle": "pointer"},
         where={"variant": "own_objects", "threads": (">=", 2)}, across=("threads", "semantics"),
         time=("ns_per_op",), direction="above", limit=1.0, source="sharing"),
    rule("C3", "vm", "vm", "Duktape threads: shared pages over per-thread pages, 2+ threads",
         {"claim": "C3", "placement": "shared"}, {"claim": "C3", "placement": "thread"},
         where={"threads": (">=", 2)}, across=("threads", "variant"),
         time=("cpu_ms_sum", "wall_ms"), direction="above", limit=1.0, source="sharing"),
    # C4 compares a handle with the inline header; the computed kernels (count from the object's
    # address: span, granule) are rows beside it, not a side of this rule: their extra
    # instructions are the address function's, not the aliasing C4 asks about.
    rule("C4", "alias", "aliasing", "handle kernel over inline kernel, fields read around incref/decref",
         {"placement": "shared"}, {"placement": "inline"}, where={"build": "strict"},
         across=("field_type",), deterministic=("instructions_per_object",),
         time=("cpu_ns_per_object", "ns_per_object"), limit=1.20, source="noise"),
    rule("C5", "inline", "cow", "inline counts: heap % a dense read-only child makes private",
         {"placement": "inline", "slot_bits": 32, "variant": "dense", "frozen": "no"}, kind="value",
         deterministic=("private_pct_of_heap",), direction="at_least", limit=50.0, source="dirty"),
    rule("C5", "outofline", "cow", "out-of-line counts' private share over inline's, dense child",
         {"placement": "shared", "handle": "pointer", "variant": "dense", "frozen": "no"},
         {"placement": "inline", "variant": "dense", "frozen": "no"}, across=("slot_bits",),
         deterministic=("private_pct_of_heap",), limit=0.25, source="dirty"),
    rule("C5", "frozen", "cow", "frozen heaps: heap % made private, worst child",
         {"variant": "dense", "frozen": "yes"}, kind="value", stat="max",
         across=("placement", "handle", "slot_bits"), deterministic=("private_pct_of_heap",),
         limit=1.0, source="frozen"),
    rule("C5", "pss", "cow", "physical memory of parent + workers (summed Pss), out-of-line over inline, dense walk",
         {"placement": "shared", "handle": "pointer", "variant": "dense", "frozen": "no"},
         {"placement": "inline", "variant": "dense", "frozen": "no"}, across=("slot_bits",),
         deterministic=("pss_total_kib",), limit=1.0, source="dirty", decides=False),
    rule("C5", "vm", "vm", "Duktape prefork, frozen out-of-line counts: heap % private per worker",
         {"claim": "C5", "vm": "duktape", "placement": ("!=", "inline"), "frozen": 1}, kind="value",
         stat="max", across=("variant", "placement"), deterministic=("heap_private_pct",),
         limit=1.0, source="frozen"),
    rule("C6", "ipc", "ipc", "serialise + send + deserialise over a raw send of the same bytes",
         {"variant": "serialised"}, {"variant": "raw"}, across=("transport",),
         time=("round_trip_ns",), direction="at_least", limit=2.0, source="huge"),
    rule("C6", "pickle", "vm", "CPython: pickle.dumps + pipe + pickle.loads over a raw send of the same bytes",
         {"claim": "C6", "variant": "pickle"}, {"claim": "C6", "variant": "raw"}, across=("transport",),
         time=("round_trip_ns",), direction="at_least", limit=2.0, source="huge"),
    rule("C7", "counts", "vm", "Duktape, index handles on shared pages over inline counts, per program",
         {"claim": "C7", "variant": "idx-nofreeze", "placement": "shared"},
         {"claim": "C7", "variant": "inline-nofreeze", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), direction="above", limit=1.02,
         source="pep683"),
    rule("C7", "freeze", "vm", "Duktape, the freeze check alone, per program",
         {"claim": "C7", "variant": "inline-freeze", "placement": "inline"},
         {"claim": "C7", "variant": "inline-nofreeze", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), direction="above", limit=1.02,
         source="pep683"),
    # CPython 3.11 built per count variant (rcalab vm py7, py7s, py5; variant cpython-<build>,
    # param vm=cpython): the same comparisons as Duktape's, against the same source unpatched
    # (cpython-inline); cachegrind's instructions of each program net of the interpreter's start
    # decide. Debian's stock build (cpython-stock, PGO+LTO) is reported beside, never a baseline
    # here: it differs from the variants by more than the counts.
    rule("C2", "cpython", "vm", "CPython, the freeze check (idx-freeze over idx-nofreeze), per program",
         {"claim": "C7", "variant": "cpython-idx-freeze", "placement": "shared"},
         {"claim": "C7", "variant": "cpython-idx-nofreeze", "placement": "shared"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), limit=1.02, source="pep683"),
    rule("C7", "cpython_counts", "vm", "CPython, index handles on shared pages over inline counts, per program",
         {"claim": "C7", "variant": "cpython-idx-nofreeze", "placement": "shared"},
         {"claim": "C7", "variant": "cpython-inline", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), direction="above", limit=1.02,
         source="pep683"),
    rule("C7", "cpython_freeze", "vm", "CPython, the freeze check alone (idx-freeze over idx-nofreeze), per program",
         {"claim": "C7", "variant": "cpython-idx-freeze", "placement": "shared"},
         {"claim": "C7", "variant": "cpython-idx-nofreeze", "placement": "shared"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), direction="above", limit=1.02,
         source="pep683"),
    rule("C7", "cpython_idx_target", "vm", "CPython, index handles over inline counts, per program (target)",
         {"claim": "C7", "variant": "cpython-idx-nofreeze", "placement": "shared"},
         {"claim": "C7", "variant": "cpython-inline", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), limit=1.05, source="issue13",
         decides=False),
    rule("C7", "cpython_ptr_target", "vm", "CPython, pointer handles over inline counts, per program (target)",
         {"claim": "C7", "variant": "cpython-ptr-nofreeze", "placement": "shared"},
         {"claim": "C7", "variant": "cpython-inline", "placement": "inline"}, across=("program",),
         deterministic=("instructions",), time=("run_cpu_ms",), limit=1.05, source="issue13",
         decides=False),
    rule("C5", "cpython_frozen", "vm", "CPython prefork, frozen out-of-line counts: heap % private per worker",
         {"claim": "C5", "vm": "cpython", "frozen": 1}, kind="value", stat="max",
         across=("variant", "placement"), deterministic=("heap_private_pct",), limit=0.5, source="issue13"),
    rule("C5", "cpython_pages", "vm", "CPython prefork, out-of-line counts not frozen: a worker's private pages "
         "over the refcount pages it made private",
         {"claim": "C5", "vm": "cpython", "frozen": 0, "handle": ("!=", "none")}, kind="value", stat="max",
         across=("variant", "gc_freeze"), deterministic=("private_vs_refcount_pages",), limit=1.1,
         source="issue13"),
)

CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7")

DIRECTION_WORDS = {"at_most": "at most", "at_least": "at least", "above": "above"}


# ---- Statistics --------------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs)


def bootstrap_ratio(a, b, paired, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED,
                    confidence=CONFIDENCE):
    """95 % percentile-bootstrap interval of median(a)/median(b). Paired: a[i] and b[i] ran back
    to back (interleaved), so one index is drawn for both; otherwise each is resampled alone."""
    if not a or not b:
        return (float("nan"), float("nan"))
    if paired and len(a) != len(b):
        paired = False
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        if paired:
            idx = [rng.randrange(len(a)) for _ in a]
            ma, mb = median([a[i] for i in idx]), median([b[i] for i in idx])
        else:
            ma = median([a[rng.randrange(len(a))] for _ in a])
            mb = median([b[rng.randrange(len(b))] for _ in b])
        if mb > 0:
            ratios.append(ma / mb)
    if not ratios:
        return (float("nan"), float("nan"))
    ratios.sort()
    tail = (1 - confidence) / 2
    lo = ratios[max(0, int(math.floor(tail * len(ratios))))]
    hi = ratios[min(len(ratios) - 1, int(math.ceil((1 - tail) * len(ratios))) - 1)]
    return (lo, hi)


def bootstrap_median(values, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED, confidence=CONFIDENCE):
    """95 % percentile-bootstrap interval of the median of `values` (for error bars)."""
    if not values:
        return (float("nan"), float("nan"))
    rng = random.Random(seed)
    meds = sorted(median([values[rng.randrange(len(values))] for _ in values]) for _ in range(resamples))
    tail = (1 - confidence) / 2
    return (meds[int(math.floor(tail * len(meds)))], meds[int(math.ceil((1 - tail) * len(meds))) - 1])


def outcome(lo, hi, direction, limit):
    """within / against / unclear for an interval [lo, hi] (lo == hi for an exact measure)."""
    if direction == "at_most":
        return "within" if hi <= limit else "against" if lo > limit else "unclear"
    if direction == "at_least":
        return "within" if lo >= limit else "against" if hi < limit else "unclear"
    # above: strictly above the limit (for a limit of 1: a difference beyond the noise)
    return "within" if lo > limit else "against" if hi <= limit else "unclear"


# ---- Selecting rows ----------------------------------------------------------------------------

def _matches(row, want):
    for k, v in want.items():
        got = R.get(row, k)
        if isinstance(v, tuple):
            op, ref = v
            x, y = R.num(got), R.num(ref)
            if op == ">=":
                ok = not R.isna(x) and x >= y
            elif op == "!=":
                ok = not R.same(got, ref)
            else:
                raise ValueError(f"verdicts: unknown operator {op}")
            if not ok:
                return False
        elif not R.same(got, v):
            return False
    return True


SERIES_COLUMNS = ("experiment", "claim", "variant", "placement", "handle", "slot_bits", "semantics", "backend",
                  "objects", "object_bytes", "working_set_bytes", "threads", "params", "method", "metric")


def _series_key(row):
    return tuple(row.get(c, "") for c in SERIES_COLUMNS)


class Series:
    """A median row and its raw repetitions (value by rep index)."""

    def __init__(self, med, raws):
        self.row = med
        self.value = R.num(med.get("value"))
        self.max = R.num(med.get("max"))
        if R.isna(self.max):
            self.max = self.value
        self.reps = {int(R.num(r["rep"])): R.num(r["value"]) for r in raws
                     if not R.isna(R.num(r.get("rep"))) and not R.isna(R.num(r.get("value")))}
        self.interleaved = "interleaved" in R.params(med).get("reps", "") or med.get("experiment") == "vm"


class Rows:
    """One result set's rows, loaded once per experiment and indexed by series."""

    def __init__(self, results_dir):
        self.dir = results_dir
        self.cache = {}

    def series(self, experiment, metric, want):
        rows = self._load(experiment)
        out = []
        for med in rows["median"].get(metric, []):
            if _matches(med, want):
                out.append(Series(med, rows["raw"].get(_series_key(med), [])))
        return out

    def raw_values(self, med):
        """The repetitions of the series a median row summarises, in rep order."""
        raws = self._load(med.get("experiment", ""))["raw"].get(_series_key(med), [])
        return [R.num(r["value"]) for r in sorted(raws, key=lambda r: R.num(r.get("rep")))
                if not R.isna(R.num(r.get("value")))]

    def _load(self, experiment):
        if experiment not in self.cache:
            med, raw = {}, {}
            for r in R.load(self.dir, experiment):
                if r.get("stat") == "median":
                    med.setdefault(r.get("metric"), []).append(r)
                elif r.get("stat") == "raw":
                    raw.setdefault(_series_key(r), []).append(r)
            # Deterministic single runs (cachegrind, callgrind) have raw rows only: they are their own median.
            for key, rs in raw.items():
                if len(rs) == 1 and not any(_series_key(m) == key for m in med.get(rs[0].get("metric"), [])):
                    med.setdefault(rs[0].get("metric"), []).append(rs[0])
            self.cache[experiment] = {"median": med, "raw": raw}
        return self.cache[experiment]


# ---- Judging -----------------------------------------------------------------------------------

def _config_label(values):
    parts = []
    for k, v in values:
        if k == "working_set_bytes":
            n = R.num(v)
            v = next((f"{n / f:g} {u}" for u, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)) if n >= f),
                     f"{n:g} B")
        elif k == "program":
            v = str(v).replace(".js", "").replace(".py", "")
        elif k == "threads":
            v = f"{v} thr"
        elif k == "slot_bits":
            v = f"{v}-bit"
        parts.append(str(v))
    return " ".join(parts) if parts else "all"


def _ratio(rule, subj, base, metric_is_time):
    """(value, lo, hi, beyond_noise) of one comparison."""
    pick = (lambda s: s.max) if rule["stat"] == "max" else (lambda s: s.value)
    if rule["kind"] == "value":
        v = pick(subj)
        return v, v, v, None
    v = pick(subj) / pick(base) if pick(base) else float("nan")
    if not metric_is_time:
        return v, v, v, None
    paired = subj.interleaved and base.interleaved and set(subj.reps) == set(base.reps)
    keys = sorted(subj.reps) if paired else None
    a = [subj.reps[k] for k in keys] if paired else list(subj.reps.values())
    b = [base.reps[k] for k in keys] if paired else list(base.reps.values())
    lo, hi = bootstrap_ratio(a, b, paired)
    if R.isna(lo):
        lo = hi = v
    return v, lo, hi, (lo > 1 or hi < 1)


def _pairs(rows, rule, metric):
    """[(config values, subject Series, baseline Series or None)] for one metric."""
    subj = rows.series(rule["experiment"], metric, {**rule["where"], **rule["subject"]})
    out, seen = [], set()
    for s in subj:
        values = tuple((k, R.get(s.row, k)) for k in rule["across"])
        if values in seen:
            continue
        seen.add(values)
        if rule["kind"] == "value":
            out.append((values, s, None))
            continue
        want = {**rule["where"], **rule["baseline"], **dict(values)}
        pair = R.params(s.row).get("pair")
        if pair:  # measured in pairs (the largest working sets): the baseline run beside this subject
            want["pair"] = pair
        b = rows.series(rule["experiment"], metric, want)
        if b:
            out.append((values, s, b[0]))
    return out


def judge_rule(rows, rule):
    """Every comparison of one rule: a list of dicts (config, measure, value, lo, hi, outcome, time
    ratio and interval beside, beyond_noise). Each configuration is decided by the first
    deterministic measure the rows have for it, else by its time."""
    time_metric = next((m for m in rule["time"] if _pairs(rows, rule, m)), None)
    time_pairs = {p[0]: p for p in _pairs(rows, rule, time_metric)} if time_metric else {}
    deciding = {}  # config values -> (metric, subject, baseline), in the order first seen
    for m in rule["deterministic"]:
        for values, s, b in _pairs(rows, rule, m):
            deciding.setdefault(values, (m, s, b))
    for values, (_, s, b) in time_pairs.items():
        deciding.setdefault(values, (time_metric, s, b))
    out = []
    for values, (measure, s, b) in deciding.items():
        is_time = measure in rule["time"]
        v, lo, hi, beyond = _ratio(rule, s, b, is_time)
        if R.isna(v):
            continue
        c = dict(rule=rule["id"], claim=rule["claim"], config=_config_label(values), fields=dict(values),
                 measure=measure, deterministic=not is_time, value=v, ci_lo=lo, ci_hi=hi,
                 outcome=outcome(lo, hi, rule["direction"], rule["limit"]), beyond_noise=beyond,
                 time_metric=None, time=None, time_lo=None, time_hi=None)
        tp = time_pairs.get(values)
        if tp is not None and rule["kind"] == "ratio":
            tv, tlo, thi, tb = _ratio(rule, tp[1], tp[2], True)
            c.update(time_metric=time_metric, time=tv, time_lo=tlo, time_hi=thi)
            c["beyond_noise"] = tb
        out.append(c)
    return out


def pooled(comparisons):
    """The verdict word and the proportion text of a set of comparisons."""
    n = len(comparisons)
    if n == 0:
        return "no data", "no comparison in this result set"
    k = sum(c["outcome"] == "within" for c in comparisons)
    a = sum(c["outcome"] == "against" for c in comparisons)
    u = n - k - a
    timed = [c for c in comparisons if c["time"] is not None or not c["deterministic"]]
    beyond = sum(bool(c["beyond_noise"]) for c in timed)
    word = ("supported" if k == n else "not supported" if a == n else "inconclusive" if a == 0 else "mixed")
    text = f"{k} of {n} within the limit"
    if a:
        text += f", {a} against"
    if u:
        text += f", {u} unclear"
    if timed:
        text += f"; time beyond the noise in {beyond} of {len(timed)}"
    return word, text


def evaluate(results_dir):
    """{claim: {verdict, proportion, rules: [{rule, comparisons, verdict, proportion}]}}."""
    rows = Rows(results_dir)
    out = {}
    for claim in CLAIMS:
        rules = []
        voting = []
        for r in RULES:
            if r["claim"] != claim:
                continue
            cs = judge_rule(rows, r)
            word, text = pooled(cs)
            rules.append(dict(rule=r, comparisons=cs, verdict=word, proportion=text))
            if r["decides"]:
                voting.extend(cs)
        word, text = pooled(voting)
        out[claim] = dict(verdict=word, proportion=text, rules=rules)
    return out


def rule_text(r):
    lim = f"{r['limit']:g}" + ("" if r["kind"] == "value" else "x")
    if r["kind"] == "value" and r["deterministic"] and "pct" in r["deterministic"][0]:
        lim = f"{r['limit']:g} %"
    return f"{r['text']}: {DIRECTION_WORDS[r['direction']]} {lim}"


def fmt_comparison(c):
    unit = "" if c['measure'].endswith("pct") or c['measure'].endswith("pct_of_heap") else "x"
    s = f"{c['config']}: {c['measure']} {c['value']:.4g}{unit}"
    if not c['deterministic']:
        s += f" [{c['ci_lo']:.4g}, {c['ci_hi']:.4g}]"
    elif c['time'] is not None:
        s += f" (time {c['time']:.4g}x [{c['time_lo']:.4g}, {c['time_hi']:.4g}])"
    return s + f" {c['outcome']}"


def table(result):
    lines = [f"{'claim':<5} | {'verdict':<13} | rule / comparisons", "-" * 100]
    for claim in CLAIMS:
        v = result[claim]
        lines.append(f"{claim:<5} | {v['verdict']:<13} | {v['proportion']}")
        for rr in v["rules"]:
            r = rr["rule"]
            tag = "" if r["decides"] else " (reported, does not decide)"
            lines.append(f"{'':<5} | {'':<13} |   {r['id']}: {rule_text(r)}{tag} -> {rr['verdict']}, {rr['proportion']}")
            for c in rr["comparisons"]:
                lines.append(f"{'':<5} | {'':<13} |     {fmt_comparison(c)}")
    return "\n".join(lines)


def write_csv(result, path):
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["claim", "verdict", "proportion", "rule", "decides", "config", "measure", "value", "ci_lo",
                    "ci_hi", "outcome", "time_metric", "time_ratio", "time_ci_lo", "time_ci_hi", "limit",
                    "direction", "source"])
        for claim in CLAIMS:
            v = result[claim]
            if not any(rr["comparisons"] for rr in v["rules"]):
                w.writerow([claim, v["verdict"], v["proportion"]] + [""] * 15)
            for rr in v["rules"]:
                r = rr["rule"]
                for c in rr["comparisons"]:
                    g = lambda x: "" if x is None else f"{x:.6g}"  # noqa: E731
                    w.writerow([claim, v["verdict"], v["proportion"], r["id"], int(r["decides"]), c["config"],
                                c["measure"], g(c["value"]), g(c["ci_lo"]), g(c["ci_hi"]), c["outcome"],
                                c["time_metric"] or "", g(c["time"]), g(c["time_lo"]), g(c["time_hi"]),
                                f"{r['limit']:g}", r["direction"], r["source"]])


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    d = argv[1]
    if not os.path.isdir(d):
        print(f"verdicts.py: no result set at {d}", file=sys.stderr)
        return 2
    result = evaluate(d)
    args = argv[2:]
    for flag in ("--csv", "--json"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                print(f"verdicts.py: {flag} needs a file", file=sys.stderr)
                return 2
            if flag == "--csv":
                write_csv(result, args[i + 1])
            else:
                with open(args[i + 1], "w") as f:
                    json.dump({c: {"verdict": v["verdict"], "proportion": v["proportion"]} for c, v in result.items()},
                              f, indent=1)
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
