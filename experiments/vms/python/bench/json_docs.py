"""JSON: nested documents (dicts, lists, strings with escapes and non-ASCII, ints, floats,
booleans, None) dumped compact, indented and key-sorted, and loaded back. SIZE: documents."""
import json

import benchlib


def doc(i):
    return {
        "id": i,
        "name": f"user \"{i}\" caf\u00e9 \u2603",
        "score": i * 0.25,
        "active": i % 2 == 0,
        "parent": None if i % 3 else i // 3,
        "tags": [f"t{j}" for j in range(i % 5)],
        "pos": {"x": i % 17, "y": -(i % 11), "path": [i, [i + 1, [i + 2]]]},
    }


def work(n):
    docs = [doc(i) for i in range(n)]
    compact = json.dumps(docs, separators=(",", ":"))
    pretty = json.dumps(docs, indent=2, sort_keys=True, ensure_ascii=False)
    a = json.loads(compact)
    b = json.loads(pretty)
    ids = sum(d["id"] for d in a) + sum(d["pos"]["path"][1][1][0] for d in b)
    return a == docs, b == docs, ids, sum(len(d["tags"]) for d in b)


def check(n, result):
    want = (True, True, n * (n - 1) // 2 + n * (n - 1) // 2 + 2 * n, sum(i % 5 for i in range(n)))
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("json_docs", work, check)
