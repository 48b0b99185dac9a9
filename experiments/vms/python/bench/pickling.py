"""Pickling: a graph of instances (with __dict__, slots and shared references), dicts, tuples,
sets and bytes, pickled with protocols 2 and 5 and unpickled. SIZE: records."""
import pickle

import benchlib


class Account:
    def __init__(self, number, owner, balance, history):
        self.number = number
        self.owner = owner
        self.balance = balance
        self.history = history

    def __eq__(self, other):
        return isinstance(other, Account) and self.__dict__ == other.__dict__


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __getstate__(self):
        return (self.x, self.y)

    def __setstate__(self, state):
        self.x, self.y = state

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def records(n):
    owners = [f"owner-{k}" for k in range(64)]
    out = []
    for i in range(n):
        history = [(i, j, j * 1.5) for j in range(i % 4)]
        out.append({"account": Account(i, owners[i % 64], i * 3, history),
                    "where": Point(i % 100, i // 100), "flags": {i % 3, i % 5},
                    "blob": bytes([i % 256]) * (i % 8), "owner": owners[i % 64]})
    return out


def work(n):
    data = records(n)
    got = []
    for protocol in (2, 5):
        blob = pickle.dumps(data, protocol=protocol)
        back = pickle.loads(blob)
        # shared references survive: the owner string is one object in both places
        shared = all(r["owner"] is r["account"].owner for r in back)
        got.append((back == data, shared, sum(r["account"].balance for r in back)))
    return got


def check(n, result):
    want = [(True, True, 3 * n * (n - 1) // 2)] * 2
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("pickling", work, check)
