"""``rnncourse grade ASSIGNMENT SUBMISSIONS --out DIR``: autograde a class, in parallel, each
submission in a sandbox (see the book's instructor page for the whole manual).

Ctrl-C and SIGTERM both stop a run cleanly: the grades already done are kept, and running the
same command again continues where it stopped.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from rnncourse.grading.assignments import AssignmentError
from rnncourse.grading.exports import LMS_KINDS
from rnncourse.grading.grade import ClassOptions, grade_class
from rnncourse.grading.lateness import LatenessError, parse_time, read_times
from rnncourse.grading.roster import RosterError, read_roster
from rnncourse.grading.shards import ShardError
from rnncourse.grading.sandbox import Limits, add_time_limit_arguments, parse_size, sandbox_problem
from rnncourse.grading.outcomes import Status
from rnncourse.grading.submissions import SubmissionsError
from rnncourse.runtime.processes import cpu_count

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="the assignment, a folder name under solutions/ (e.g. 01-rnn-math)")
    parser.add_argument("submissions", type=Path,
                        help="a folder with one sub-folder (or one LMS-named file) per student, or a zip of them")
    parser.add_argument("--out", type=Path, required=True,
                        help="where grades.csv, feedback/, results/ and the nbgrader course/ go")
    cpus = cpu_count()
    parser.add_argument("--workers", type=int, default=cpus, help="students graded at once (default: the CPUs, %(default)s)")
    add_time_limit_arguments(parser)
    parser.add_argument("--memory", default="4G", help="address-space limit per notebook, e.g. 1500M, 4G (default 4G)")
    parser.add_argument("--disk", default="256M", help="size of the scratch HOME and /tmp each (default 256M)")
    parser.add_argument("--max-size", default="50M", help="largest notebook file accepted (default 50M)")
    parser.add_argument("--course", type=Path, help="the nbgrader course folder (default: OUT/course)")
    parser.add_argument("--regrade", action="store_true", help="regrade everyone, ignoring stored results")
    parser.add_argument("--roster", type=Path,
                        help="CSV with id, first_name, last_name, email, lms_id: names in the gradebook, "
                             "LMS ids in the import file, a 'missing' row for who sent nothing")
    parser.add_argument("--due", help="the due date, e.g. 2026-03-01T23:59+01:00: minutes late per submission")
    parser.add_argument("--times", type=Path,
                        help="submission times: Moodle's grading worksheet as downloaded, or a CSV with "
                             "student and submitted columns")
    parser.add_argument("--lms", choices=LMS_KINDS, help="also write that LMS's grade import file")
    parser.add_argument("--roster-only", action="store_true",
                        help="grade only the students on --roster (one machine's share of a large class)")
    parser.add_argument("--merge", type=Path, action="append", default=[], metavar="SHARD_OUT",
                        help="first copy the results of another machine's --out folder (repeatable); "
                             "what they graded is not graded again")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without bubblewrap: students' code can read and write your files and "
                             "use the network. Only for trusted notebooks")


def class_options(args: argparse.Namespace) -> ClassOptions:
    """The roster, due date, submission times and LMS of the command line, read and checked."""
    due = parse_time(args.due) if args.due else None
    if due is not None and args.due and not re.search(r"(Z|[+-]\d\d:?\d\d|UTC)$", args.due.strip()):
        due = due.replace(tzinfo=datetime.now().astimezone().tzinfo)  # no zone given: this machine's
    times = read_times(args.times, due.tzinfo if due else timezone.utc) if args.times else {}
    if args.roster_only and not args.roster:
        raise RosterError("--roster-only needs a --roster")
    return ClassOptions(roster=read_roster(args.roster) if args.roster else None, due=due, times=times, lms=args.lms,
                        roster_only=args.roster_only, merge=args.merge)


def run(args: argparse.Namespace) -> int:
    try:
        limits = Limits(cell_timeout=args.cell_timeout, timeout=args.timeout,
                        memory=parse_size(args.memory), disk=parse_size(args.disk) or Limits.disk)
        max_bytes = parse_size(args.max_size) or 50 * 2**20
    except ValueError as err:
        print(f"rnncourse grade: {err}", file=sys.stderr)
        return 2
    try:
        options = class_options(args)
    except (RosterError, LatenessError) as err:
        print(f"rnncourse grade: {err}", file=sys.stderr)
        return 2
    sandboxed = not args.unsafe_no_sandbox
    if sandboxed:
        problem = sandbox_problem()
        if problem:
            print(f"rnncourse grade: refusing to grade without a sandbox. {problem}\n"
                  "To grade anyway, with the students' code running as you, with your files and the "
                  "network within its reach, pass --unsafe-no-sandbox.", file=sys.stderr)
            return 2
    else:
        print("WARNING: grading WITHOUT a sandbox (--unsafe-no-sandbox): the submissions' code runs with "
              "your permissions and network access.", file=sys.stderr)
    # A shutdown stops like Ctrl-C; and Ctrl-C itself is installed too: a process started in the
    # background by a script inherits SIGINT ignored, and would never stop on Ctrl-C.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, signal.default_int_handler)
    try:
        summary = grade_class(args.assignment, args.submissions, args.out, workers=max(1, args.workers),
                              limits=limits, sandboxed=sandboxed, course=args.course, regrade=args.regrade,
                              max_bytes=max_bytes, options=options)
    except (AssignmentError, SubmissionsError, ShardError) as err:
        print(f"rnncourse grade: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while reading the submissions or making the course
        print("rnncourse grade: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if summary["interrupted"]:
        return 130
    return 1 if any(r["status"] == Status.ERROR for r in summary["results"]) else 0
