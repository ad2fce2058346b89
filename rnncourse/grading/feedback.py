"""A student's feedback page: one self-contained HTML file made from their grading result.

It shows the total, when it was submitted and how late, the status and its reason when the
notebook could not be graded normally, per exercise the points, passed/failed and the message of
the failing check, and the written answers graded by hand (or "needs manual grading"). Hidden tests
count in the grade and their messages are shown, but their code is not (the page is built from
the result, not from the executed notebook). Everything taken from the submission is escaped.
"""

from __future__ import annotations

import html

from rnncourse.grading.outcomes import NOT_EXECUTED, Status

__all__ = ["feedback_html", "format_points"]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.passed { color: #1a7f37; font-weight: 600; } .failed { color: #b42318; font-weight: 600; }
pre { white-space: pre-wrap; margin: 0; font-size: .9em; }
.status { background: #fff4e5; border-left: 4px solid #f79009; padding: .75rem 1rem; margin: 1rem 0; }
"""


def format_points(x: float) -> str:
    """``3.0`` -> ``3``, ``2.5`` -> ``2.5``: points as people write them (here and in ``check``)."""
    return f"{x:g}"


def _late_line(result: dict, penalty: float) -> str:
    """``Submitted 2026-03-02 10:15 UTC, 12 minutes after the due date`` (or on time)."""
    late, when = result.get("minutes_late"), result.get("submitted")
    if when is None:
        return "Submitted late (the time is not known)." if result.get("late") else ""
    text = f"Submitted {when}"
    if late:
        text += f", {late} minute{'s' if late != 1 else ''} after the due date ({result['due']})"
        text += f"; late penalty: {format_points(penalty)} points" if penalty else ""
    elif result.get("due"):
        text += ", on time"
    return text + "."


def _manual_rows(result: dict, graded_by_hand: dict | None) -> list[str]:
    """The written answers: the score given by hand, or "needs manual grading"."""
    e, rows = html.escape, []
    scores = (graded_by_hand or {}).get("manual", {})
    for question in result.get("manual", []):
        score = scores.get(question["grade_id"])
        shown = ("needs manual grading" if result["status"] not in NOT_EXECUTED else "not submitted"
                 ) if score is None else "graded by hand"
        points = "–" if score is None else format_points(score)
        rows.append(f"<tr><td>{e(question['title'])}</td><td class=\"num\">{points} / "
                    f"{format_points(question['points'])}</td><td>{shown}</td><td></td></tr>")
    return rows


def feedback_html(result: dict, graded_by_hand: dict | None = None) -> str:
    """The page for ``result`` (a grading result as stored in ``results/ASSIGNMENT/STUDENT.json``);
    ``graded_by_hand``: the scores of the written answers and the late penalty from the gradebook
    (:func:`~rnncourse.grading.gradebook.read_manual`)."""
    e = html.escape
    rows = []
    for test in result["tests"]:
        verdict = '<span class="passed">passed</span>' if test["passed"] else '<span class="failed">failed</span>'
        message = f"<pre>{e(test['message'])}</pre>" if test["message"] else ""
        rows.append(f"<tr><td>{e(test['title'])}</td><td class=\"num\">{format_points(test['score'])} / "
                    f"{format_points(test['points'])}</td><td>{verdict}</td><td>{message}</td></tr>")
    rows += _manual_rows(result, graded_by_hand)
    penalty = (graded_by_hand or {}).get("penalty", 0.0)
    manual = sum(v for v in (graded_by_hand or {}).get("manual", {}).values() if v is not None)
    score = max(0.0, result["score"] + manual - penalty)
    waiting = result["status"] not in NOT_EXECUTED and (
        any(v is None for v in (graded_by_hand or {}).get("manual", {}).values())
        or bool(result.get("manual") and not graded_by_hand))
    status = ""
    if result["status"] != Status.GRADED:
        status = (f'<div class="status"><strong>Status: {e(result["status"])}</strong><br>'
                  f'{e(result["reason"])}</div>')
    late = _late_line(result, penalty)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(result["assignment"])}: feedback for {e(result["student"])}</title>
<style>{STYLE}</style></head>
<body>
<h1>{e(result["assignment"])}</h1>
<p>Student: <strong>{e(result["student"])}</strong><br>
Score: <strong>{format_points(score)} / {format_points(result["max_score"])}</strong>{
    " (written answers not graded yet)" if waiting else ""}{f"<br>{e(late)}" if late else ""}</p>
{status}
<table><thead><tr><th>Exercise</th><th>Points</th><th>Result</th><th>Message</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>The grade includes hidden tests, which use other shapes and seeds than the visible ones; their
messages are shown above, their code is not.</p>
</body></html>
"""
