"""The proof's figures: printed, and collected for `make proof` when CONCORD_PROOF_FIGURES
names a file (pytest-xdist workers do not show what a test prints)."""

import os


def report(line: str) -> None:
    print("\n" + line)
    path = os.environ.get("CONCORD_PROOF_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as figures:
            figures.write(line + "\n")
