"""C4's kernels as the compiler emitted them (the assembly rcalab saves beside its rows): every
kernel writes the count twice per object (incref, decref), the inline ones included. Before,
the compiler folded +1 -1 on the inline count and the inline loop stored no count at all, so
C4 compared a loop that writes counts with one that writes none. The computed kernels (count
found from the object's address by the span or the granule function) write theirs too.

Usage: test_c4_asm.py ASM_DIR   (the build's experiments/asm, with aliasing_<build>.s)"""
import os
import sys
import unittest

ASM_DIR = os.environ.get("RCALAB_ASM_DIR", "")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "experiments", "plots"))
from asm_stores import count_stores, kernel_body  # noqa: E402


class KernelsWriteCounts(unittest.TestCase):
    def test_every_kernel_stores_the_count_twice_per_object(self):
        self.assertTrue(os.path.isdir(ASM_DIR), f"no assembly folder {ASM_DIR!r}")
        seen = 0
        for build in ("strict", "nostrict", "restrict"):
            path = os.path.join(ASM_DIR, f"aliasing_{build}.s")
            with open(path) as f:
                text = f.read()
            for layout in ("inline", "handle", "span", "granule"):
                for field in ("u32", "f64"):
                    name = f"rca_lab_alias_{build}_{layout}_{field}"
                    body = kernel_body(text, name)
                    self.assertIsNotNone(body, f"{name} not in {path}")
                    self.assertGreaterEqual(count_stores(body), 2, f"{name}: count stores deleted:\n" + "\n".join(body))
                    seen += 1
        self.assertEqual(seen, 24)

    def test_the_check_finds_a_missing_store(self):
        folded = ["\tmovl\t(%rdx), %eax", "\taddl\t$1, %eax", "\tmovl\t$-2147483648, (%rdx)"]
        self.assertEqual(count_stores(folded), 0)
        kept = ["\taddl\t$1, (%rdx)", "\tmovl\t%eax, 4(%rdx,%rcx,4)"]
        self.assertEqual(count_stores(kept), 2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        ASM_DIR = sys.argv.pop(1)
    unittest.main()
