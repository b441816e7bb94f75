"""Reads a QR code drawn on a terminal (UTF-8 half blocks, or "##" per module) back into
its text with zbarimg, as a phone camera would read the screen."""
import re
import shutil
import subprocess
import tempfile

HALF = "\u2580\u2584\u2588"


def _rows(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = [line for line in text.splitlines() if any(c in line for c in HALF)]
    if lines:
        rows = []
        for line in lines:
            rows.append([c in "\u2580\u2588" for c in line])  # light in the upper half
            rows.append([c in "\u2584\u2588" for c in line])  # light in the lower half
        return rows
    lines = [line for line in text.splitlines() if re.fullmatch(r"(##|  )+", line)]
    return [[line[i:i + 2] == "##" for i in range(0, len(line), 2)] for line in lines]


def decode(text):
    """The text of the QR code in a terminal transcript, or None."""
    if not shutil.which("zbarimg"):
        return None
    rows = _rows(text)
    if not rows:
        return None
    width, scale, margin = max(len(r) for r in rows), 6, 12

    def dark(y, x):
        r, c = (y - margin) // scale, (x - margin) // scale
        if y < margin or x < margin or r >= len(rows) or c >= len(rows[r]):
            return 0
        return 0 if rows[r][c] else 1  # drawn modules are the light ones

    w, h = width * scale + 2 * margin, len(rows) * scale + 2 * margin
    with tempfile.NamedTemporaryFile("w", suffix=".pbm") as f:
        f.write("P1\n%d %d\n" % (w, h))
        for y in range(h):
            f.write(" ".join(str(dark(y, x)) for x in range(w)) + "\n")
        f.flush()
        r = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True, text=True)
    return r.stdout.strip() or None
