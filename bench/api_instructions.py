"""CPU instructions an API work cycle costs the server, counted by valgrind: a figure that
does not move with the machine's clock speed or load, to compare two checkouts.

    .venv/bin/python bench/api_instructions.py [--low 20] [--high 70] [--checkout DIR]

Runs ``bench/api_phases.py`` (claim → evidence → release through Django's test client, in
one process, SQLite) under ``valgrind --tool=cachegrind --cache-sim=no`` twice, with
``--low`` and ``--high`` cycles, and prints ``(I(high) - I(low)) / (high - low)``:
the user-space instructions of one cycle, start-up and warm-up cancelled out. The time the
kernel spends in ``fsync`` and the like is not counted; ``bench/api_cycle.py`` measures
real HTTP throughput. ``--checkout`` measures another checkout (a ``git worktree`` of an
older commit; this script's ``api_phases.py`` is used if it has none). Needs valgrind
(``apt install valgrind``); about a minute per run at the defaults, each run slowed
~50 times. The hash seed is fixed so that two runs of one checkout agree to ≈0.5 %.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(checkout: Path, phases: Path, cycles: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={scratch}/out",
                sys.executable,
                "-W",
                "ignore",
                str(phases),
                "--cycles",
                str(cycles),
            ],
            cwd=checkout,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
        )
    if result.returncode:
        sys.exit(result.stdout[-2000:] + result.stderr[-2000:])
    match = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if not match:
        sys.exit("valgrind printed no instruction count:\n" + result.stderr[-2000:])
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low", type=int, default=20)
    parser.add_argument("--high", type=int, default=70)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    args = parser.parse_args()
    if args.high <= args.low:
        parser.error("--high must be above --low")
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt install valgrind)")
    checkout = args.checkout.resolve()
    phases = checkout / "bench" / "api_phases.py"
    if not phases.exists():
        phases = ROOT / "bench" / "api_phases.py"
        if checkout != ROOT:
            # api_phases.py finds the project from its own path: run a copy inside the checkout.
            copy = checkout / "bench" / "api_phases.py"
            copy.parent.mkdir(exist_ok=True)
            shutil.copy(phases, copy)
            phases = copy
    low = instructions(checkout, phases, args.low)
    high = instructions(checkout, phases, args.high)
    per_cycle = (high - low) / (args.high - args.low)
    print(f"{checkout}: {per_cycle / 1e6:.2f} M instructions a cycle (3 requests)")


if __name__ == "__main__":
    main()
