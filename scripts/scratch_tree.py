#!/usr/bin/env python3
"""Copies a working tree to a scratch folder and edits the copy, for builds the product must
never have a switch for (fuzz/mutants.sh: a defect put back; experiments/bench/unchecked_lib.sh:
the release-default checks cut out).

    scratch_tree.py ROOT DEST < EDITS
    scratch_tree.py --check ROOT < EDITS

ROOT's tracked and new (not ignored) files are copied to DEST (emptied first; deleted files are
skipped). EDITS on stdin is a Python list of (path, old, new) tuples; each `old` must occur
exactly once in its file, so an edit that no longer matches the code fails loudly instead of
building an unchanged copy. With --check nothing is copied: each edit is only checked against
ROOT's files (ctest keeps fuzz/mutants.sh's edits true to the code this way).
"""
import ast
import os
import shutil
import subprocess
import sys


def edited(path, text, old, new):
    """text with old replaced by new, or exit if old does not occur exactly once."""
    if text.count(old) != 1:
        sys.exit(f"scratch_tree.py: {path}: the code to edit occurs {text.count(old)} times, "
                 f"not once; update the edit:\n{old}")
    return text.replace(old, new)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        root = sys.argv[2]
        for path, old, new in ast.literal_eval(sys.stdin.read()):
            with open(os.path.join(root, path)) as f:
                edited(path, f.read(), old, new)
        return
    if len(sys.argv) != 3:
        sys.exit("usage: scratch_tree.py ROOT DEST < EDITS | scratch_tree.py --check ROOT < EDITS")
    root, dest = sys.argv[1], sys.argv[2]
    edits = ast.literal_eval(sys.stdin.read())
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root,
                           check=True, capture_output=True).stdout.split(b"\0")
    shutil.rmtree(dest, ignore_errors=True)
    for f in files:
        rel = f.decode()
        src = os.path.join(root, rel)
        if not rel or not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    for path, old, new in edits:
        p = os.path.join(dest, path)
        with open(p) as f:
            text = edited(path, f.read(), old, new)
        with open(p, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
