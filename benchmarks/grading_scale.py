"""A class at scale: ``rnncourse grade`` on N generated submissions of one assignment.

The class is a mix, in a fixed proportion: correct notebooks (the solution), untouched ones (the
release: 0 points), partly wrong ones (one answer left as released) and hostile ones (an endless
loop, ``os._exit``, a segfault, checks replaced), named as a Canvas download names them. It is
graded with the default workers (the CPUs), and the results file records the wall time, the time
per student, the statuses, the load average before and after, and whether the sandbox was used
(bubblewrap when it works here; otherwise ``--unsafe-no-sandbox``, which the notebooks, made
here, allow).

    python benchmarks/grading_scale.py --students 200          # ~15 min on 2 busy cores
    python benchmarks/grading_scale.py --students 4 --out /tmp/x   # what the test runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

from machine import load_average, machine_facts, summary_row, write_results
from rnncourse.grading import cells
from rnncourse.grading.assignments import make_course, read_source, release_notebook
from rnncourse.grading.sandbox import sandbox_problem

HOSTILE = {
    "loop": "while True:\n    pass",
    "exit": "import os\nos._exit(0)",
    "crash": "import ctypes\nctypes.string_at(0)",
    "tamper": "import rnncourse.grading.checks as c\nc.check_close = c.check_equal = lambda *a, **k: None",
}
MIX = ["solution"] * 10 + ["release"] * 5 + ["partial"] * 2 + list(HOSTILE)  # 21 kinds, repeated


def make_class(name: str, students: int, folder: Path) -> Counter:
    """Write ``students`` Canvas-named notebooks into ``folder``; return how many of each kind."""
    source = read_source(name)
    with tempfile.TemporaryDirectory() as tmp:
        release = nbformat.reads(release_notebook(make_course(Path(tmp) / "c", [name]), name), as_version=4)
    first_test = cells.test_cells(release)[0]
    kinds: Counter = Counter()
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(students):
        kind = MIX[k % len(MIX)]
        nb = nbformat.from_dict(json.loads(json.dumps(release if kind == "release" else source)))
        if kind == "partial":
            answer = max(i for i in range(first_test) if nb.cells[i].metadata.get("nbgrader", {}).get("solution"))
            nb.cells[answer] = release.cells[answer]
        elif kind in HOSTILE:
            nb.cells.insert(first_test, nbformat.v4.new_code_cell(HOSTILE[kind]))
        (folder / f"student{k:03d}_{4000 + k}_{9000 + k}_{name}.ipynb").write_text(nbformat.writes(nb))
        kinds[kind] += 1
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="00-getting-started")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--cell-timeout", default="20", help="passed to grade (the loops wait this long)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    sandboxed = sandbox_problem() is None
    with tempfile.TemporaryDirectory(prefix="grading-scale-") as tmp:
        kinds = make_class(args.assignment, args.students, Path(tmp) / "class")
        cmd = [sys.executable, "-m", "rnncourse", "grade", args.assignment, str(Path(tmp) / "class"),
               "--out", str(Path(tmp) / "out"), "--cell-timeout", args.cell_timeout,
               *([] if sandboxed else ["--unsafe-no-sandbox"])]
        load_before, started = load_average(), time.monotonic()
        run = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - started
        load_after = load_average()
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
            return 1
        statuses = Counter(json.loads(p.read_text())["status"]
                           for p in (Path(tmp) / "out" / "results" / args.assignment).glob("*.json"))
    facts = machine_facts()
    result = {**facts, "assignment": args.assignment, "students": args.students, "kinds": dict(kinds),
              "statuses": dict(statuses), "workers": os.cpu_count(), "sandbox": "bubblewrap" if sandboxed else "none",
              "cell_timeout_s": float(args.cell_timeout), "wall_s": round(wall, 1),
              "load_before": load_before, "load_after": load_after,
              "summary": [summary_row(f"grade {args.students} submissions of {args.assignment}", round(wall, 1), "s"),
                          summary_row("wall time per student", round(wall / args.students, 2), "s")]}
    path = write_results(result, args.out, "grading_scale")
    print(f"{args.students} submissions in {wall:.0f} s ({wall / args.students:.2f} s each) with "
          f"{os.cpu_count()} workers, sandbox {result['sandbox']}, load {load_before} -> {load_after}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
