"""The rows rcalab vm's CPython parts write (py7, py5, py8 at --quick, one repetition): every
CPython build that exists gives values; every known build that does not gives one row per part
with stat=unavailable, an empty value (NA, never 0) and the reason; and the verdict engine reads
no comparison from an unavailable build. Debian's stock python3.11 is always measured.

Environment: RCALAB_BIN (the rcalab program), RCA_CPYTHON_ROOT (<build>/cpython).
Run through ctest (vm_cpython_rows), or /usr/bin/python3 test_vm_cpython.py -v."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "experiments", "plots"))
import rows as R  # noqa: E402
import verdicts as V  # noqa: E402

KNOWN = ("inline", "idx-nofreeze", "idx-freeze", "ptr-nofreeze", "ptr-freeze", "idx-freeze-legacy")
PROGRAMS = [line.split()[0] for line in open(os.path.join(ROOT, "experiments", "vms", "python", "bench",
                                                               "programs.txt"))
            if line.strip() and not line.startswith("#")]


def built(variant):
    return os.access(os.path.join(os.environ["RCA_CPYTHON_ROOT"], variant, "build", "python"), os.X_OK)


def configured():
    """The variants CMake was asked for (<root>/variants.txt), which rcalab measures too."""
    path = os.path.join(os.environ["RCA_CPYTHON_ROOT"], "variants.txt")
    if not os.path.exists(path):
        return []
    return [line.split("\t")[0] for line in open(path) if line.strip() and not line.startswith("#")]


# Every build rcalab knows: the driver's list and whatever else was configured.
ALL = KNOWN + tuple(v for v in configured() if v not in KNOWN)


class CPythonRows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        env = dict(os.environ, RCALAB_VM_PARTS="py7,py5,py8")
        cls.run_ = subprocess.run([os.environ["RCALAB_BIN"], "vm", "--quick", "--reps", "1", "--warmup", "0",
                                   "--out", cls.dir.name], env=env, capture_output=True, text=True,
                                  timeout=1800)
        path = os.path.join(cls.dir.name, "vm.csv")
        cls.rows = list(csv.DictReader(open(path))) if os.path.exists(path) else []

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def of(self, variant, **want):
        return [r for r in self.rows if r["variant"] == "cpython-" + variant
                and all(R.get(r, k) == v for k, v in want.items())]

    def test_rcalab_succeeded(self):
        self.assertEqual(self.run_.returncode, 0, self.run_.stderr[-3000:])
        self.assertTrue(self.rows)

    def test_stock_python_is_measured(self):
        meds = self.of("stock", metric="run_cpu_ms", stat="median")
        self.assertEqual(sorted(R.get(r, "program") for r in meds), sorted(p + ".py" for p in PROGRAMS))
        self.assertTrue(all(float(r["value"]) > 0 for r in meds))
        pct = self.of("stock", metric="heap_private_pct", stat="median")
        self.assertEqual(len(pct), 2)  # without and with gc.freeze()
        # Stock 3.11 writes the count of every object it reads, gc.freeze() or not: every page
        # holding an object is copied (57 % of the heap here; the rest is dict key tables, list
        # item arrays and the interpreter's own data, which hold no counts).
        self.assertTrue(all(float(r["value"]) > 40 for r in pct), [r["value"] for r in pct])
        c8 = self.of("stock", metric="c8_ok")
        self.assertEqual(sorted(R.get(r, "outcome") for r in c8), ["ok"] * 4)  # c8.py's scenarios

    def test_each_known_build_gives_values_or_says_unavailable(self):
        for v in KNOWN:
            with self.subTest(variant=v):
                unavailable = self.of(v, stat="unavailable")
                if built(v):
                    self.assertEqual(unavailable, [])
                    self.assertTrue(self.of(v, metric="run_cpu_ms", stat="median"))
                    self.assertTrue(self.of(v, metric="heap_private_pct", stat="median"))
                    self.assertTrue(self.of(v, metric="c8_ok"))
                    if v.endswith("-legacy"):  # the layout that survives legacy count writes
                        self.assertEqual({R.get(r, "outcome") for r in self.of(v, metric="c8_ok")},
                                         {"ok"})
                else:
                    # One row per part, value NA (empty), the reason given; no value anywhere.
                    self.assertEqual(sorted(r["metric"] for r in unavailable),
                                     ["c8_ok", "heap_private_pct", "run_cpu_ms"])
                    for r in unavailable:
                        self.assertEqual(r["value"], "")
                        self.assertTrue(R.get(r, "unavailable"))
                    self.assertEqual([r for r in self.of(v) if r["stat"] != "unavailable"], [])

    def test_ratios_only_against_a_baseline_that_ran(self):
        ratios = [r for r in self.rows if r["metric"] == "time_vs_inline"]
        if built("inline"):
            others = [v for v in ALL[1:] if built(v)] + ["stock"]
            self.assertEqual({r["variant"] for r in ratios if r["stat"] == "geomean"},
                             {"cpython-" + v for v in others})
        else:
            self.assertEqual(ratios, [])
        geo = [r for r in self.rows if r["metric"] == "time_vs_stock" and r["stat"] == "geomean"]
        self.assertEqual({r["variant"] for r in geo}, {"cpython-" + v for v in ALL if built(v)})
        for r in geo:
            self.assertLessEqual(float(r["ci_lo"]), float(r["ci_hi"]))

    def test_verdicts_read_no_comparison_from_missing_builds(self):
        res = V.evaluate(self.dir.name)
        rules = {rr["rule"]["id"]: rr for c in ("C2", "C5", "C7") for rr in res[c]["rules"]}
        if not (built("inline") and built("idx-nofreeze")):
            self.assertEqual(rules["cpython_counts"]["verdict"], "no data")
        if not any(built(v) for v in ALL if "-freeze" in v):  # no build freezes counts
            self.assertEqual(rules["cpython_frozen"]["verdict"], "no data")


if __name__ == "__main__":
    unittest.main()
