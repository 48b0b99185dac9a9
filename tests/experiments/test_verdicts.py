"""The verdict engine (experiments/plots/verdicts.py): one synthetic result set per verdict
outcome, the bootstrap interval on data whose interval is known, and the paper's generator giving
the engine's verdicts on the checked-in sample. Run: /usr/bin/python3 -m unittest (from this
folder) or through ctest (lab_verdicts)."""
import csv
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "experiments", "plots"))
import verdicts as V  # noqa: E402

COLUMNS = ["experiment", "claim", "variant", "placement", "handle", "slot_bits", "params", "method", "metric",
           "rep", "stat", "n", "value", "min", "max"]


def series(experiment, metric, values, **cols):
    """A median row and its raw rows, as rcalab writes them (interleaved repetitions)."""
    params = cols.pop("params", "reps=interleaved")
    base = dict(experiment=experiment, metric=metric, params=params, method="wall_clock", **cols)
    out = [dict(base, rep=i, stat="raw", value=v) for i, v in enumerate(values)]
    s = sorted(values)
    med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    out.append(dict(base, stat="median", n=len(values), value=med, min=s[0], max=s[-1]))
    return out


def write(d, experiment, rows):
    with open(os.path.join(d, experiment + ".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})


def ipc(transports):
    """transport -> (serialised ns list, raw ns list)"""
    rows = []
    for t, (ser, raw) in transports.items():
        rows += series("ipc", "round_trip_ns", ser, claim="C6", variant="serialised", params=f"transport={t};reps=interleaved")
        rows += series("ipc", "round_trip_ns", raw, claim="C6", variant="raw", params=f"transport={t};reps=interleaved")
    return rows


RAW = [100, 104, 98, 101, 99]


class Outcomes(unittest.TestCase):
    def judge(self, experiment, rows, claim):
        with tempfile.TemporaryDirectory() as d:
            write(d, experiment, rows)
            return V.evaluate(d)[claim]

    def test_supported(self):
        v = self.judge("ipc", ipc({"pipe": ([x * 3 for x in RAW], RAW)}), "C6")
        self.assertEqual(v["verdict"], "supported")
        c = v["rules"][0]["comparisons"][0]
        self.assertAlmostEqual(c["value"], 3.0)
        self.assertEqual((c["ci_lo"], c["ci_hi"]), (3.0, 3.0))  # exactly 3x in every repetition
        self.assertTrue(c["beyond_noise"])
        self.assertIn("1 of 1 within the limit", v["proportion"])

    def test_not_supported(self):
        v = self.judge("ipc", ipc({"pipe": ([x * 1.2 for x in RAW], RAW)}), "C6")
        self.assertEqual(v["verdict"], "not supported")
        self.assertEqual(v["rules"][0]["comparisons"][0]["outcome"], "against")

    def test_inconclusive_when_the_interval_straddles_the_limit(self):
        v = self.judge("ipc", ipc({"pipe": ([150, 250, 200, 300, 100], RAW)}), "C6")
        c = v["rules"][0]["comparisons"][0]
        self.assertLess(c["ci_lo"], 2.0)
        self.assertGreater(c["ci_hi"], 2.0)
        self.assertEqual(v["verdict"], "inconclusive")

    def test_mixed_counts_each_configuration(self):
        v = self.judge("ipc", ipc({"pipe": ([x * 3 for x in RAW], RAW), "shm": ([x * 1.1 for x in RAW], RAW),
                                   "unix_socket": ([x * 4 for x in RAW], RAW)}), "C6")
        self.assertEqual(v["verdict"], "mixed")
        self.assertTrue(v["proportion"].startswith("2 of 3 within the limit, 1 against"), v["proportion"])

    def test_no_data(self):
        with tempfile.TemporaryDirectory() as d:
            res = V.evaluate(d)
        for claim in V.CLAIMS:
            self.assertEqual(res[claim]["verdict"], "no data")

    def test_deterministic_measure_decides_and_time_is_reported_beside(self):
        rows = []
        for placement, handle, instr, ns in (("inline", "none", 10.0, RAW), ("shared", "pointer", 11.0,
                                                                              [x * 1.5 for x in RAW])):
            p = f"build=strict;field_type=u32"
            rows += series("aliasing", "cpu_ns_per_object", ns, claim="C4", placement=placement, handle=handle,
                           params=p + ";reps=interleaved")
            rows.append(dict(experiment="aliasing", claim="C4", placement=placement, handle=handle, params=p,
                             method="callgrind", metric="instructions_per_object", rep=0, stat="raw", value=instr))
        v = self.judge("aliasing", rows, "C4")
        c = v["rules"][0]["comparisons"][0]
        self.assertEqual(c["measure"], "instructions_per_object")
        self.assertAlmostEqual(c["value"], 1.1)
        self.assertEqual(c["outcome"], "within")  # 1.1x instructions, although time says 1.5x
        self.assertAlmostEqual(c["time"], 1.5)
        self.assertEqual(v["verdict"], "supported")

    def test_computed_kernels_stay_out_of_the_handle_over_inline_rule(self):
        # C4 asks what a handle costs over the inline header; computed rows (count from the
        # object's address) are reported beside it and change none of its comparisons.
        rows = []
        for placement, handle, instr in (("inline", "none", 10.0), ("shared", "pointer", 11.0),
                                         ("computed", "span", 30.0), ("computed", "granule", 25.0)):
            rows.append(dict(experiment="aliasing", claim="C4", placement=placement, handle=handle,
                             params="build=strict;field_type=u32", method="callgrind",
                             metric="instructions_per_object", rep=0, stat="raw", value=instr))
        v = self.judge("aliasing", rows, "C4")
        comps = v["rules"][0]["comparisons"]
        self.assertEqual(len(comps), 1)
        self.assertAlmostEqual(comps[0]["value"], 1.1)
        self.assertEqual(v["verdict"], "supported")

    def test_value_rule_on_pages(self):
        rows = series("cow", "private_pct_of_heap", [99.0, 99.5], claim="C5", variant="dense", placement="inline",
                      handle="none", slot_bits=32, params="frozen=no")
        v = self.judge("cow", rows, "C5")
        inline = [rr for rr in v["rules"] if rr["rule"]["id"] == "inline"][0]
        self.assertEqual(inline["verdict"], "supported")
        rows = series("cow", "private_pct_of_heap", [10.0, 10.0], claim="C5", variant="dense", placement="inline",
                      handle="none", slot_bits=32, params="frozen=no")
        self.assertEqual(self.judge("cow", rows, "C5")["verdict"], "not supported")

    def test_rules_that_do_not_decide_are_reported_only(self):
        rows = []
        for variant, ns in (("check_expect", [x * 1.5 for x in RAW]), ("no_check", RAW)):
            rows += series("freeze", "cpu_ns_per_op", ns, claim="C2", variant=variant, placement="inline",
                           handle="none", params="frozen_pct=0;reps=interleaved")
        v = self.judge("freeze", rows, "C2")
        self.assertEqual(v["verdict"], "no data")  # C2 is decided on whole VMs
        micro = [rr for rr in v["rules"] if rr["rule"]["id"] == "micro"][0]
        self.assertEqual(micro["verdict"], "not supported")


def cpython_c7(variant, placement, handle, instructions, ms, program="trees.py"):
    """C7 rows of one CPython build and program as rcalab vm's py7/py7s write them."""
    p = f"vm=cpython;program={program}"
    rows = series("vm", "run_cpu_ms", ms, claim="C7", variant=variant, placement=placement, handle=handle,
                  params=p + ";reps=interleaved")
    rows.append(dict(experiment="vm", claim="C7", variant=variant, placement=placement, handle=handle,
                     params=p + ";scope=net", method="cachegrind", metric="instructions", rep=0, stat="raw",
                     value=instructions))
    return rows


class CPythonRules(unittest.TestCase):
    def judge(self, rows, claim):
        with tempfile.TemporaryDirectory() as d:
            write(d, "vm", rows)
            return V.evaluate(d)[claim]

    def rule(self, verdict, rid):
        return [rr for rr in verdict["rules"] if rr["rule"]["id"] == rid][0]

    def test_instructions_decide_c7_and_c2_for_cpython(self):
        rows = (cpython_c7("cpython-inline", "inline", "none", 100.0, RAW)
                + cpython_c7("cpython-idx-nofreeze", "shared", "index", 104.0, [x * 0.9 for x in RAW])
                + cpython_c7("cpython-idx-freeze", "shared", "index", 105.04, RAW))
        c7 = self.judge(rows, "C7")
        counts = self.rule(c7, "cpython_counts")["comparisons"]
        self.assertEqual(len(counts), 1)
        self.assertEqual(counts[0]["measure"], "instructions")
        self.assertAlmostEqual(counts[0]["value"], 1.04)
        self.assertEqual(counts[0]["outcome"], "within")  # slower by more than 2 %, as C7 says
        self.assertAlmostEqual(counts[0]["time"], 0.9)     # although this time says faster
        target = self.rule(c7, "cpython_idx_target")
        self.assertEqual(target["verdict"], "supported")  # +4 % <= +5 %
        self.assertFalse(target["rule"]["decides"])
        self.assertEqual(self.rule(c7, "cpython_freeze")["comparisons"][0]["outcome"], "against")  # +1 %
        c2 = self.rule(self.judge(rows, "C2"), "cpython")
        self.assertAlmostEqual(c2["comparisons"][0]["value"], 1.01)
        self.assertEqual(c2["verdict"], "supported")
        # Duktape's rules take none of these rows.
        self.assertEqual(self.rule(c7, "counts")["verdict"], "no data")

    def test_stock_python_and_unavailable_builds_are_no_comparison(self):
        rows = cpython_c7("cpython-stock", "inline", "none", 80.0, RAW)
        rows.append(dict(experiment="vm", claim="C7", variant="cpython-idx-nofreeze", placement="shared",
                         handle="index", params="vm=cpython;unavailable=not built", method="py7s",
                         metric="instructions", stat="unavailable", value=""))
        c7 = self.judge(rows, "C7")
        self.assertEqual(self.rule(c7, "cpython_counts")["verdict"], "no data")

    def test_c5_cpython_frozen_and_pages(self):
        def c5(variant, handle, frozen, gc_freeze, metric, values):
            return series("vm", metric, values, claim="C5", variant=variant, placement="shared", handle=handle,
                          params=f"vm=cpython;frozen={frozen};gc_freeze={gc_freeze};records=150000")
        rows = (c5("cpython-idx-freeze", "index", 1, 1, "heap_private_pct", [0.2, 0.4])
                + c5("cpython-idx-nofreeze", "index", 0, 1, "private_vs_refcount_pages", [1.02, 1.05])
                + c5("cpython-ptr-nofreeze", "pointer", 0, 0, "private_vs_refcount_pages", [1.3, 1.05]))
        v = self.judge(rows, "C5")
        frozen = self.rule(v, "cpython_frozen")
        self.assertEqual(frozen["verdict"], "supported")
        self.assertAlmostEqual(frozen["comparisons"][0]["value"], 0.4)  # the worst worker
        pages = self.rule(v, "cpython_pages")
        self.assertEqual([c["outcome"] for c in pages["comparisons"]], ["within", "against"])
        self.assertEqual(self.rule(v, "vm")["verdict"], "no data")  # Duktape's rule


class Bootstrap(unittest.TestCase):
    def test_constant_ratio_has_a_point_interval(self):
        self.assertEqual(V.bootstrap_ratio([2, 4, 6, 8], [1, 2, 3, 4], paired=True), (2.0, 2.0))

    def test_two_values_give_the_extremes(self):
        # Resampled medians of [1, 3] are 1, 2 or 3 (probabilities 1/4, 1/2, 1/4): the 2.5 and
        # 97.5 percentiles are the extremes.
        self.assertEqual(V.bootstrap_ratio([1, 3], [1, 1], paired=False), (1.0, 3.0))

    def test_interval_holds_the_ratio_and_excludes_1_only_when_apart(self):
        lo, hi = V.bootstrap_ratio([x * 1.3 for x in RAW], RAW, paired=True)
        self.assertLessEqual(lo, 1.3)
        self.assertGreaterEqual(hi, 1.3)
        self.assertGreater(lo, 1.0)
        lo, hi = V.bootstrap_ratio([100, 90, 110, 95, 105], [98, 104, 92, 100, 107], paired=True)
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)

    def test_same_rows_same_interval(self):
        a, b = [5, 7, 6, 9, 5], [4, 4, 5, 6, 5]
        self.assertEqual(V.bootstrap_ratio(a, b, True), V.bootstrap_ratio(a, b, True))


@unittest.skipUnless(importlib.util.find_spec("matplotlib"), "matplotlib (the paper's generator) not installed")
class PaperAgrees(unittest.TestCase):
    def test_gen_py_gives_the_engines_verdicts_on_ci_sample(self):
        sample = os.path.join(ROOT, "papers", "results", "ci-sample")
        want = {c: v["verdict"] for c, v in V.evaluate(sample).items()}
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, os.path.join(ROOT, "papers", "tools", "gen.py"), sample, out], check=True,
                           stdout=subprocess.DEVNULL)
            got = {}
            with open(os.path.join(out, "verdicts.txt")) as f:
                for line in f:
                    if line[:1] == "C" and ": " in line:
                        claim, rest = line.split(": ", 1)
                        got[claim] = rest.split(" -- ")[0].strip()
        self.assertEqual(got, want)
        # rcalab's own claim table (claims.csv, written by the same engine when the sample was made)
        with open(os.path.join(sample, "claims.csv"), newline="") as f:
            table = {r["claim"]: r["verdict"] for r in csv.DictReader(f)}
        self.assertEqual(table, want)


if __name__ == "__main__":
    unittest.main()
