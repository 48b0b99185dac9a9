"""Reading rcalab rows (schema: experiments/README.md, "Row schema"), keyed on column names only.
The one reader of result rows: the figures and summary here and the paper's generator
(papers/tools/gen.py) all use it.

CSV is preferred, JSON lines otherwise; '' (CSV) and null (JSON) both mean NA. Nothing here
knows the column order, so columns the experiments add later are carried along untouched.
"""
import csv
import json
import math
import os

NA = float("nan")


def load(results_dir, experiment):
    """Every row of one experiment as a dict of strings ('' = NA); [] when the file is absent."""
    path = os.path.join(results_dir, experiment + ".csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    path = os.path.join(results_dir, experiment + ".jsonl")
    if os.path.exists(path):
        out = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    obj = json.loads(line)
                    out.append({k: "" if v is None else str(v) for k, v in obj.items()})
        return out
    return []


def num(s):
    """A number, or NaN for NA / a missing column."""
    if s is None or s == "":
        return NA
    try:
        return float(s)
    except ValueError:
        return NA


def isna(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def params(row):
    """The params column (k=v;k=v) as a dict."""
    out = {}
    for item in (row.get("params") or "").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            out[k] = v
    return out


def get(row, key):
    """A column, or else a parameter of that name ('' when neither has it)."""
    v = row.get(key)
    if v not in (None, ""):
        return v
    return params(row).get(key, "")


def layout(row):
    """inline, embedded, shared/pointer, thread/index, computed/span ... (placement + the handle
    column: the handle kind, or a computed heap's address function), as rcalab names layouts."""
    p, h = row.get("placement", ""), row.get("handle", "")
    if h in ("none", "") or p in ("inline", "embedded", "inline_biased"):
        return p
    return p + "/" + h


LAYOUT_ORDER = ["inline", "embedded", "shared/pointer", "shared/index", "thread/pointer", "thread/index",
                "padded/pointer", "padded/index", "computed/span", "computed/granule", "inline_biased"]


def layout_key(name):
    """Sort key: layouts in rca's placement order, unknown ones last."""
    return LAYOUT_ORDER.index(name) if name in LAYOUT_ORDER else len(LAYOUT_ORDER)


def summaries(rows, metric=None, stat="median"):
    """Summary rows (stat=median by default), optionally of one metric."""
    return [r for r in rows if r.get("stat") == stat and (metric is None or r.get("metric") == metric)]


def medians(rows, metric=None):
    """The median summary rows, optionally of one metric."""
    return summaries(rows, metric)


class Series:
    """One median row as numbers: value, min, max, n, spread."""

    def __init__(self, row):
        self.row = row
        self.value = num(row.get("value"))
        self.min = num(row.get("min"))
        self.max = num(row.get("max"))
        self.n = num(row.get("n"))
        self.spread = num(row.get("spread"))
        if isna(self.min):
            self.min = self.value
        if isna(self.max):
            self.max = self.value


def beyond_noise(a, b):
    """Two series differ beyond the noise when their min..max ranges do not overlap."""
    return a.max < b.min or b.max < a.min


def same(a, b):
    """Equal as strings, or as numbers (32 and 32.0)."""
    a, b = str(a), str(b)
    if a == b:
        return True
    x, y = num(a), num(b)
    return not isna(x) and not isna(y) and x == y


def find(rows, **want):
    """Rows whose columns (or params) equal every given value (compared as strings)."""
    out = []
    for r in rows:
        ok = True
        for k, v in want.items():
            if k == "layout":
                if layout(r) != v:
                    ok = False
                    break
            elif not same(get(r, k), v):
                ok = False
                break
        if ok:
            out.append(r)
    return out


def one(rows, **want):
    """The single Series matching, or None (the first one when several match)."""
    m = find(rows, **want)
    return Series(m[0]) if m else None


def environment(results_dir):
    """The environment of a result set: environment.json, else the first row of any CSV."""
    path = os.path.join(results_dir, "environment.json")
    if os.path.exists(path):
        with open(path) as f:
            line = f.readline()
            obj = json.loads(line)
            return {k: "" if v is None else str(v) for k, v in obj.items()}
    for name in sorted(os.listdir(results_dir)):
        if name.endswith(".csv") and name != "claims.csv":
            rows = load(results_dir, name[:-4])
            if rows:
                return rows[0]
    return {}
