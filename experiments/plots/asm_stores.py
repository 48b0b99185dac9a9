"""Count stores in a kernel of C4's saved assembly (GNU as, AT&T syntax): used by the paper's
generator and by tests/experiments/test_c4_asm.py, which checks that every kernel writes the count."""
import re

# The destination is the last operand; a memory destination ends in "(%reg...)".
MEMORY_DEST = re.compile(r"^\t(mov|add|sub|inc|dec|lock)\w*\s.*\(%\w+(,\s*%\w+(,\s*\d+)?)?\)\s*$")
FREEZE_SATURATION = "$-2147483648"  # the overflow path's store of the frozen value, not a count update


def kernel_body(text, name):
    """The instruction lines of function `name` (up to .cfi_endproc / .size), or None."""
    lines = text.splitlines()
    try:
        start = lines.index(name + ":")
    except ValueError:
        return None
    body = []
    for line in lines[start + 1:]:
        if ".cfi_endproc" in line or line.startswith("\t.size"):
            break
        body.append(line)
    return body


def count_stores(body):
    """Instructions that write memory, other than the freeze path's saturation store."""
    return sum(1 for line in body if MEMORY_DEST.match(line) and FREEZE_SATURATION not in line)
