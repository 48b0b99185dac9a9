#!/usr/bin/python3
"""Checks a generated paper: every value, table and figure rca.tex references exists.

Usage: /usr/bin/python3 papers/tools/check.py TEX GENERATED_DIR [--log LATEX_LOG] [--strict]

  static    every \\rv{key} (and the keys \\verdict{cN} uses) is defined in values.tex, every
            \\gentable{name} has GENERATED_DIR/name.tex, every \\includegraphics{name} has
            GENERATED_DIR/name.pdf; no measured-looking number typed in the claim sections' prose
            is checked by eye, not here.
  log       (with --log) no "rca-paper: undefined value/missing table", no undefined reference or
            control sequence, no missing file, no overfull box, and the run produced output.
  --strict  also fails when the result set lacked rows for an experiment (manifest.json "missing")
            or a claim's verdict is "no data": CI uses it on the checked-in sample.
Exit status 0 when everything holds, 1 otherwise; each problem is printed on its own line.
"""
import json
import os
import re
import sys


def strip_comments(text):
    return "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in text.splitlines())


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    strict = "--strict" in argv
    log = None
    if "--log" in argv:
        log = argv[argv.index("--log") + 1]
        args = [a for a in args if a != log]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tex_path, gen = args
    problems = []
    text = strip_comments(open(tex_path).read())
    # Macro definitions use #1 placeholders: skip keys containing '#'.
    keys = {k for k in re.findall(r"\\rv\{([^}]*)\}", text) if "#" not in k}
    for c in re.findall(r"\\verdict\{([^}#]*)\}", text):
        keys |= {f"{c}.verdict", f"{c}.evidence", f"{c}.rule"}
    tables = {t for t in re.findall(r"\\gentable\{([^}]*)\}", text) if "#" not in t}
    figures = set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}", text))
    listings = {t for t in re.findall(r"\\genlisting\{([^}]*)\}", text) if "#" not in t}
    labels = set(re.findall(r"\\label\{([^}]*)\}", text))
    refs = set(re.findall(r"\\ref\{([^}]*)\}", text))

    values_path = os.path.join(gen, "values.tex")
    defined = set()
    if not os.path.exists(values_path):
        problems.append(f"missing {values_path}")
    else:
        defined = set(re.findall(r"^\\rvdef\{([^}]*)\}", open(values_path).read(), re.M))
    for k in sorted(keys - defined):
        problems.append(f"undefined value: \\rv{{{k}}}")
    for t in sorted(tables):
        p = os.path.join(gen, t + ".tex")
        if not os.path.exists(p):
            problems.append(f"missing table: {p}")
        else:
            body = open(p).read()
            # Figures referenced from generated tables (the verdict table) must be labelled.
            refs |= set(re.findall(r"\\ref\{([^}]*)\}", body))
    for f in sorted(figures):
        p = os.path.join(gen, f if f.endswith(".pdf") else f + ".pdf")
        if not os.path.exists(p):
            problems.append(f"missing figure: {p}")
    for t in sorted(listings):
        p = os.path.join(gen, t + ".txt")
        if not os.path.exists(p):
            problems.append(f"missing listing: {p}")
    for r in sorted(refs - labels):
        problems.append(f"reference to an undefined label: {r}")

    manifest_path = os.path.join(gen, "manifest.json")
    if strict:
        if not os.path.exists(manifest_path):
            problems.append(f"missing {manifest_path}")
        else:
            m = json.load(open(manifest_path))
            for e in m.get("missing", []):
                problems.append(f"strict: the result set has no rows for {e}")
        vj = os.path.join(gen, "values.json")
        if os.path.exists(vj):
            values = json.load(open(vj))
            for k, v in sorted(values.items()):
                if k.endswith(".verdict") and v == "no data":
                    problems.append(f"strict: {k} is 'no data'")

    if log:
        if not os.path.exists(log):
            problems.append(f"missing LaTeX log {log}")
        else:
            lt = open(log, errors="replace").read()
            for m in sorted(set(re.findall(r"rca-paper: (?:undefined value|missing table|missing listing) \S+", lt))):
                problems.append(f"log: {m}")
            for pat, what in ((r"LaTeX Warning: Reference `([^']*)'", "undefined reference"),
                              (r"LaTeX Warning: Citation `([^']*)'", "undefined citation"),
                              (r"! Undefined control sequence", "undefined control sequence"),
                              (r"! LaTeX Error: File `([^']*)' not found", "file not found"),
                              (r"! (?:LaTeX |Package \w+ )?Error[^\n]*", "error")):
                for m in sorted(set(re.findall(pat, lt))):
                    problems.append(f"log: {what}: {m}")
            # Text past the margin is a layout error the reader sees: every overfull box fails.
            for width, where in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too \w+\) (?:in paragraph |in alignment |detected )?at lines? (\d+(?:--\d+)?)", lt):
                problems.append(f"log: overfull box: {width}pt at line(s) {where}")
            if "Output written on" not in lt:
                problems.append("log: no output written")
            if "Label(s) may have changed" in lt:
                problems.append("log: labels may have changed (run pdflatex once more)")

    n = f"{len(keys)} values, {len(tables)} tables, {len(figures)} figures"
    if problems:
        for p in problems:
            print(f"check: {p}")
        print(f"check: FAILED ({len(problems)} problems; checked {n})")
        return 1
    print(f"check: ok ({n} referenced, all present{', log clean' if log else ''}{', strict' if strict else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
