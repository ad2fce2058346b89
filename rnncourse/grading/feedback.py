"""A student's feedback page: one self-contained HTML file made from their grading result.

It shows the total, the status and its reason when the notebook could not be graded normally,
and per exercise the points, passed/failed and the message of the failing check. Hidden tests
count in the grade and their messages are shown, but their code is not (the page is built from
the result, not from the executed notebook). Everything taken from the submission is escaped.
"""

from __future__ import annotations

import html

from rnncourse.grading.outcomes import Status

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


def feedback_html(result: dict) -> str:
    """The page for ``result`` (a grading result as stored in ``results/ASSIGNMENT/STUDENT.json``)."""
    e = html.escape
    rows = []
    for test in result["tests"]:
        verdict = '<span class="passed">passed</span>' if test["passed"] else '<span class="failed">failed</span>'
        message = f"<pre>{e(test['message'])}</pre>" if test["message"] else ""
        rows.append(f"<tr><td>{e(test['title'])}</td><td class=\"num\">{format_points(test['score'])} / "
                    f"{format_points(test['points'])}</td><td>{verdict}</td><td>{message}</td></tr>")
    status = ""
    if result["status"] != Status.GRADED:
        status = (f'<div class="status"><strong>Status: {e(result["status"])}</strong><br>'
                  f'{e(result["reason"])}</div>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(result["assignment"])}: feedback for {e(result["student"])}</title>
<style>{STYLE}</style></head>
<body>
<h1>{e(result["assignment"])}</h1>
<p>Student: <strong>{e(result["student"])}</strong><br>
Score: <strong>{format_points(result["score"])} / {format_points(result["max_score"])}</strong></p>
{status}
<table><thead><tr><th>Exercise</th><th>Points</th><th>Result</th><th>Message</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>The grade includes hidden tests, which use other shapes and seeds than the visible ones; their
messages are shown above, their code is not.</p>
</body></html>
"""
