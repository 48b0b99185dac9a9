"""Regular expressions: log lines parsed with named groups, counted by status, users replaced
with a callback, numbers found and a case-insensitive search. SIZE: log lines."""
import re

import benchlib

LINE = re.compile(r"(?P<date>\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d) (?P<user>user\d+) "
                  r"(?P<method>GET|POST|PUT) (?P<path>/\S*) (?P<status>\d{3}) (?P<bytes>\d+)")
USER = re.compile(r"user(\d+)")
NUMBER = re.compile(r"\b\d+\b")
STATUSES = (200, 404, 500, 301)
METHODS = ("GET", "POST", "PUT")


def lines(n):
    return [f"2026-12-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} user{i % 50} "
            f"{METHODS[i % 3]} /api/item/{i} {STATUSES[i % 4]} {i * 13 % 1000}" for i in range(n)]


def work(n):
    log = lines(n)
    by_status = {}
    total_bytes = 0
    for line in log:
        m = LINE.match(line)
        if m is None:
            continue
        by_status[m["status"]] = by_status.get(m["status"], 0) + 1
        total_bytes += int(m.group("bytes"))
    text = "\n".join(log)
    anonymised = USER.sub(lambda m: "u" + str(int(m.group(1)) % 7), text)
    numbers = len(NUMBER.findall(anonymised))
    posts = len(re.findall(r"(?im)^.* post /api", text))
    return dict(by_status), total_bytes, anonymised.count("user"), numbers, posts


def check(n, result):
    by_status = {}
    for i in range(n):
        by_status[str(STATUSES[i % 4])] = by_status.get(str(STATUSES[i % 4]), 0) + 1
    total_bytes = sum(i * 13 % 1000 for i in range(n))
    # per line: year, month and day, 3 time fields, the path's number, status, bytes
    want = (by_status, total_bytes, 0, 9 * n, len(range(1, n, 3)))
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("regex", work, check)
