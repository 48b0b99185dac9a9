"""Reading rcalab rows (experiments/README.md): CSV preferred, JSON lines otherwise."""
import csv
import json
import os


def load(results_dir, experiment):
    """All rows of one experiment as dicts of strings ('' = NA), or [] when absent."""
    path = os.path.join(results_dir, experiment + ".csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    path = os.path.join(results_dir, experiment + ".jsonl")
    if os.path.exists(path):
        rows = []
        with open(path) as f:
            for line in f:
                obj = json.loads(line)
                rows.append({k: "" if v is None else str(v) for k, v in obj.items()})
        return rows
    return []


def medians(rows, metric=None):
    """Summary rows (stat=median), optionally of one metric."""
    return [r for r in rows if r["stat"] == "median" and (metric is None or r["metric"] == metric)]


def params(row):
    """The params column as a dict."""
    out = {}
    for item in row.get("params", "").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            out[k] = v
    return out


def layout(row):
    """'inline', 'embedded', 'shared/ptr', 'thread/idx', ... as rcalab names layouts."""
    p, h = row["placement"], row["handle"]
    if h in ("none", "") or p in ("inline", "embedded"):
        return p
    return p + ("/idx" if h == "index" else "/ptr")


def num(s):
    return float(s) if s not in ("", None) else float("nan")
