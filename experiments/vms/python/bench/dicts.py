"""Dict and str work: building keys with f-strings, counting in a dict, joining and splitting
text, inverting a dict of lists, case changes and lookups. SIZE: words."""
import benchlib


def work(n):
    words = [f"w{i % 997}_{(i * 7) % 13}" for i in range(n)]
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    text = " ".join(words)
    parts = text.split(" ")
    by_count = {}
    for word, c in counts.items():
        by_count.setdefault(c, []).append(word)
    upper = {w.upper(): c for w, c in counts.items()}
    hits = sum(1 for w in parts if w.upper() in upper and w in counts)
    lengths = sum(len(k) * v for k, v in counts.items())
    return len(counts), sum(counts.values()), len(text), len(parts), hits, lengths, \
        sum(len(v) for v in by_count.values())


def check(n, result):
    distinct = min(n, 997 * 13)  # i -> (i % 997, 7i % 13) repeats with period 997 * 13
    letters = sum(2 + len(str(i % 997)) + len(str((i * 7) % 13)) for i in range(n))
    want = (distinct, n, letters + n - 1, n, n, letters, distinct)
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("dicts", work, check)
