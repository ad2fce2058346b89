"""Sphinx extension for the course book.

* ``{exercises} NN-slug`` directive: the chapter's assignment with its graded exercises and
  points (read from ``exercises/NN-slug/NN-slug.ipynb``), an "Open in Colab" link and a download.
* Launch buttons: Colab and Binder cannot open MyST-markdown pages, so the buttons of
  ``chapters/NN-slug`` are pointed at the generated notebook ``notebooks/NN-slug.ipynb``.

Both build their links from the repository address in ``_config.yml`` (``repository.url``).

* One execution cache per profile: ``_build/.jupyter_cache/<profile>`` (``RNNCOURSE_PROFILE``, or
  the default profile), so a build under another profile re-executes every page instead of
  serving the old profile's outputs. An explicit ``execute.cache`` in ``_config.yml`` wins.
* Progress bars of the executed chapters print lines, not notebook widgets that need a CDN.
* ``{result}`` role: a number from a benchmark's results file, inserted at build time, e.g.
  ``{result}`imdb-cpu:median_test_accuracy|.1%``` (file ``benchmarks/results/imdb-cpu*.json``,
  the newest by its ``date``; a dotted key path, list items by index; an optional format spec
  after ``|``). A missing file or key is a build warning, so ``-W`` fails the build.
* ``{reference-numbers}`` directive: the table of the course's targets with our figures from every
  results file's ``summary`` list ("not measured yet" where there is none).

How the pages read (hanging indents, outputs that fit, the smoke note, alt text, no build-machine
paths) is the business of ``rnncourse_reading``, loaded from ``setup``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
COLAB = "https://colab.research.google.com/github"


def _repo_root(app) -> Path:
    return Path(app.srcdir).resolve().parent


def _github_blob(app, path: str) -> str | None:
    """``org/repo/blob/branch/path`` for the configured repository, or None."""
    options = app.config.html_theme_options
    url = options.get("repository_url", "").rstrip("/")
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?$", url)
    if not match:
        return None
    branch = options.get("repository_branch") or "main"
    return f"{match.group(1)}/{match.group(2)}/blob/{branch}/{path}"


def _exercise_list(notebook: Path) -> list[tuple[str, float]]:
    """``[(title, points)]`` for every graded cell, titled by the markdown heading above it."""
    from rnncourse.grading.cells import heading_above, nbgrader

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        if nbgrader(cell).get("grade"):  # "Exercise 2: `rnn_step` (3 points)" -> "Exercise 2: `rnn_step`"
            title = re.sub(r"\s*\(\s*\d+(\.\d+)?\s+points?\s*\)\s*$", "", heading_above(cells, i))
            found.append((title or "Exercise", float(nbgrader(cell).get("points", 0))))
    return found


class ExercisesDirective(Directive):
    required_arguments = 1
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        app = env.app
        name = self.arguments[0]
        rel_repo = f"exercises/{name}/{name}.ipynb"
        notebook = _repo_root(app) / rel_repo
        if not notebook.exists():
            raise self.error(f"{rel_repo} does not exist: run `make exercises`.")
        env.note_dependency(str(notebook))

        box = nodes.admonition(classes=["tip"])
        box += nodes.title(text=f"Assignment {name}")
        exercises = _exercise_list(notebook)
        total = sum(p for _, p in exercises)
        box += nodes.paragraph(
            text=f"{len(exercises)} graded exercises, {total:g} points. "
            "Visible tests check your work as you go; the grade also runs hidden tests."
        )
        items = nodes.bullet_list()
        for title, points in exercises:
            line = nodes.paragraph()
            for i, part in enumerate(title.split("`")):  # `code` in a heading stays code
                if part:
                    line += nodes.literal(text=part) if i % 2 else nodes.Text(part)
            line += nodes.Text(f" ({points:g} points)")
            items += nodes.list_item("", line)
        box += items

        links = nodes.paragraph()
        blob = _github_blob(app, rel_repo)
        if blob:
            links += nodes.reference("", "Open in Colab", refuri=f"{COLAB}/{blob}")
            links += nodes.Text(" · ")
        doc_dir = Path(app.srcdir) / os.path.dirname(env.docname)
        links += addnodes.download_reference(
            "", "", nodes.literal(text=f"download {name}.ipynb"),
            reftarget=os.path.relpath(notebook, doc_dir), refdoc=env.docname,
            refdomain="", reftype="download", refexplicit=True, refwarn=False,
        )
        links += nodes.Text(" · check your answers with ")
        links += nodes.literal(text=f"rnncourse check {name}.ipynb")
        box += links
        return [box]


def _cache_per_profile(app, config):
    """Key the execution cache on the profile: one jupyter-cache folder per profile."""
    if config.nb_execution_cache_path:
        return
    sys.path.insert(0, str(_repo_root(app)))
    try:
        from rnncourse.runtime.profiles import get_profile
    finally:
        sys.path.pop(0)
    profile = get_profile()  # an unknown RNNCOURSE_PROFILE fails here, before anything runs
    config.nb_execution_cache_path = str(Path(app.outdir).parent / ".jupyter_cache" / profile)
    LOGGER.info(f"profile {profile}: execution cache {config.nb_execution_cache_path}")


def _progress_as_lines(app, config):
    """Progress bars in the executed chapters print lines (rnncourse.runtime.progress), not a notebook
    widget: a widget's page needs require.js and the widget manager from a CDN, so offline it
    shows nothing and the browser console reports the failed loads."""
    os.environ["RNNCOURSE_PROGRESS"] = "lines"


# ----- numbers from benchmarks/results/*.json --------------------------------------------------

def _results_dir(app) -> Path:
    return _repo_root(app) / "benchmarks" / "results"


def _load_results(app, stem: str) -> list[tuple[Path, dict]]:
    """Every results file ``<stem>.json`` or ``<stem>-<host>.json``, newest first (by ``date``)."""
    found = []
    for path in sorted(_results_dir(app).glob(f"{stem}*.json")):
        rest = path.stem[len(stem):]
        if rest and not rest.startswith("-"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            LOGGER.warning(f"{path.name} is not a readable results file: {error}")
            continue
        found.append((path, data))
    return sorted(found, key=lambda item: str(item[1].get("date", "")), reverse=True)


def _lookup(data, key: str):
    for part in key.split("."):
        if isinstance(data, list) and part.lstrip("-").isdigit():
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(part)
    return data


def result_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{result}`stem:key.path|format``` -> the value from the newest matching results file."""
    env = inliner.document.settings.env
    app = env.app
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+):([^|]+?)\s*(?:\|(.*))?", text)
    if not match:
        return _result_missing(env, lineno, text, f"{{result}} wants `stem:key` or `stem:key|format`, not {text!r}")
    stem, key, spec = match.group(1), match.group(2).strip(), match.group(3)
    files = _load_results(app, stem)
    for path, _ in files:
        env.note_dependency(str(path))
    try:
        if not files:
            raise LookupError(f"no results file benchmarks/results/{stem}*.json: run the benchmark")
        path, data = files[0]
        try:
            value = _lookup(data, key)
        except (KeyError, IndexError):
            raise LookupError(f"{path.name} has no {key!r}") from None
        shown = format(value, spec) if spec else str(value)
    except (LookupError, ValueError, TypeError) as error:
        return _result_missing(env, lineno, text, f"{{result}}`{text}`: {error}")
    return [nodes.inline(rawtext, shown, classes=["rnncourse-result"])], []


def _result_missing(env, lineno, text: str, why: str):
    """A build warning (``-W`` fails the build) and, in the page, plain words instead of a number."""
    LOGGER.warning(why, location=(env.docname, lineno))
    return [nodes.emphasis(text=f"(not measured yet: {text})")], []


# The course's targets (COURSE_DESIGN.md, "Reference numbers"): what, the published anchor, our
# target, and the results files (by stem) and summary lines (a regular expression that their "what"
# matches, case ignored) behind it. Summary lines no target claims are listed below the targets.
TARGETS = [
    ("IMDB test accuracy, trained from scratch",
     "source articles 85–88%; bentrevett packed BiLSTM + GloVe 86.2%",
     "≥ 90% (`gpu`); `cpu`: ≥ 85% in ≤ 10 min of training on 2 cores", "imdb", "IMDB"),
    ("tiny-shakespeare validation loss (nats/char)",
     "nanoGPT character GPT 1.4697 (random windows of 256, each from nothing)",
     "≤ 1.45 with an RNN", "charlm", "validation loss"),
    ("tiny-shakespeare, the chapter's LSTM against a small GPT on the same CPU time, "
     "windows of 64 from nothing (nats/char)",
     "nanoGPT README, CPU recipe (4 layers, 128 wide, context 64, 2,000 iterations): about 1.88",
     "measured and shown", "charlm", "windows of 64"),
    ("date normalisation exact match, held-out ≥ 10,000 dates", "—",
     "≥ 99.5% (`cpu`: ≥ 99% in ≤ 10 min)", "seq2seq", r"^dates"),
    ("English→French held-out BLEU (sacrebleu), greedy vs beam, ± attention",
     "PyTorch tutorial: none; d2l: 4 sentences", "measured and shown", "seq2seq", "BLEU"),
    ("hand-written fused LSTM vs cuDNN (forward+backward)", "TorchScript 1.2–1.3x cuDNN",
     "≤ 1.5x", "bench_cells", "fused"),
    ("ONNX Runtime vs eager, batch 1, 200 tokens, chapter 6's BiLSTM, CPU",
     "14x measured in 2026-11 (withdrawn: eager on another call)", "measured and explained, same threads",
     "deploy", "ONNX Runtime vs eager"),
    ("the HTTP service, ≥ 64 concurrent clients on loopback", "—",
     "no failed request; p50/p99 stated", "deploy", "HTTP service"),
    ("minGRU parallel vs sequential scan, forward+backward", "paper: 175x at T = 512 on a GPU",
     "measured at T = 128 … 8,192", "scan", "minGRU parallel"),
]


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _figure(entry: dict) -> str:
    value = entry.get("value")
    if value is None:
        return "not measured"
    if isinstance(value, float):
        value = f"{value:.4g}"
    unit = entry.get("unit") or ""
    shown = f"{value} {unit}".strip() if unit not in ("%", "x") else f"{value}{unit}"
    met = entry.get("met")
    if met is not None:
        shown += " (target met)" if met else " (target NOT met)"
    return shown


def _profile(data: dict) -> str:
    if data.get("profile"):
        return str(data["profile"])
    found = re.match(r"profile (\w+)", str(data.get("hardware") or data.get("environment") or ""))
    return found.group(1) if found else "?"


def _hardware(data: dict) -> str:
    text = str(data.get("hardware") or data.get("environment") or "not recorded")
    text = re.sub(r"^profile \w+ \([^)]*\) · ", "", text)
    if data.get("cpu_model"):
        text += f"; {data['cpu_model']}"
    load = data.get("load_average_before")
    if load:
        text += f"; load {load[0]} before"
    return text


def _measured(path: Path, data: dict) -> str:
    date = str(data.get("date") or "date not recorded")[:10]
    return _cell(f"profile `{_profile(data)}`, {_hardware(data)}, {date} (`{path.name}`)")


class ReferenceNumbersDirective(Directive):
    """The targets table and every results file's summary, as MyST tables."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        app = env.app
        results = _results_dir(app)
        env.note_dependency(str(results))
        lines = ["| what | anchor | target | ours | measured |", "|---|---|---|---|---|"]
        shown = set()  # (file name, index in its summary)
        for what, anchor, target, stem, pattern in TARGETS:
            rows = []
            for path, data in _load_results(app, stem):
                env.note_dependency(str(path))
                for i, entry in enumerate(data.get("summary") or []):
                    if re.search(pattern, str(entry.get("what", "")), flags=re.I):
                        shown.add((path.name, i))
                        rows.append((f"**{_figure(entry)}**: {_cell(entry.get('what'))}", _measured(path, data)))
            if not rows:
                rows = [("not measured yet", "")]
            for i, row in enumerate(rows):
                head = (_cell(what), _cell(anchor), _cell(target)) if i == 0 else ("", "", "")
                lines.append("| " + " | ".join((*head, *row)) + " |")
        others = []
        for path in sorted(results.glob("*.json")):
            data = _load_one(path)
            if data is None:
                continue
            env.note_dependency(str(path))
            entries = data.get("summary") or [{"what": "(this file has no summary list)"}]
            others += [f"| {_cell(entry.get('what'))} | **{_figure(entry)}** | {_measured(path, data)} |"
                       for i, entry in enumerate(entries) if (path.name, i) not in shown]
        from docutils.statemachine import StringList

        # One container per table, so the style sheet can label each table's cells on a phone.
        found = []
        for kind, rows in (("rc-targets", lines),
                           ("rc-others", ["Other measurements (no course target):", "",
                                          "| what | ours | measured |", "|---|---|---|", *others])):
            if kind == "rc-others" and not others:
                continue
            container = nodes.container(classes=["rnncourse-reference-numbers", kind])
            self.state.nested_parse(StringList(rows, source="reference-numbers"), self.content_offset,
                                    container)
            found.append(container)
        return found


def _load_one(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _results_pages_are_always_outdated(app, env, added, changed, removed):
    """Pages that read results files are re-read on every build (a new file may have appeared)."""
    return [doc for doc in env.found_docs if doc == "reference-numbers"]


def _point_launch_buttons_at_notebooks(app, pagename, templatename, context, doctree):
    match = re.match(r"^chapters/(\d\d-[a-z0-9-]+)$", pagename)
    if not match:
        return
    name = match.group(1)
    book = (app.config.html_theme_options.get("path_to_docs") or "book").strip("/")
    old, new = f"{book}/chapters/{name}.md", f"notebooks/{name}.ipynb"
    if not (_repo_root(app) / new).exists():
        LOGGER.warning(f"{new} does not exist: run `make exercises` to generate the launch notebooks")
        return

    def rewrite(obj):
        if isinstance(obj, dict):
            if isinstance(obj.get("url"), str) and obj.get("text") in {"Colab", "Binder"}:
                obj["url"] = obj["url"].replace(old, new)
            for value in obj.values():
                rewrite(value)
        elif isinstance(obj, list):
            for value in obj:
                rewrite(value)

    rewrite(context.get("header_buttons", []))


def _clean_page_scripts(app, pagename, templatename, context, doctree):
    """Two fixes for what the themes put in every page, both seen as console errors in a browser:

    * sphinx-thebe's inline configuration script can be registered twice, and the second copy
      throws ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``: keep one;
    * pydata-sphinx-theme reads the colour mode from ``default_mode``, empty unless set, and logs
      ``Got invalid theme mode`` on a reader's first visit: default it to ``auto``.
    """
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    if "script_files" in context:
        context["script_files"] = scripts
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def setup(app):
    app.setup_extension("rnncourse_reading")
    app.add_directive("exercises", ExercisesDirective)
    app.add_directive("reference-numbers", ReferenceNumbersDirective)
    app.add_role("result", result_role)
    app.connect("config-inited", _cache_per_profile, priority=100)
    app.connect("config-inited", _progress_as_lines)
    app.connect("env-get-outdated", _results_pages_are_always_outdated)
    app.connect("html-page-context", _point_launch_buttons_at_notebooks, priority=900)
    app.connect("html-page-context", _clean_page_scripts, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
