# An uncaught exception: rca-python must exit non-zero.
raise RuntimeError("expected failure from raise.py")
