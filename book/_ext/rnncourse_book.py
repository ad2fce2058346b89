"""Sphinx extension for the course book.

* ``{exercises} NN-slug`` directive: the chapter's assignment with its graded exercises and
  points (read from ``exercises/NN-slug/NN-slug.ipynb``), an "Open in Colab" link and a download.
* Launch buttons: Colab and Binder cannot open MyST-markdown pages, so the buttons of
  ``chapters/NN-slug`` are pointed at the generated notebook ``notebooks/NN-slug.ipynb``.

Both build their links from the repository address in ``_config.yml`` (``repository.url``).
"""

from __future__ import annotations

import json
import os
import re
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
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found, title = [], "Exercise"
    for cell in cells:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            heading = re.search(r"^#+\s+(.+)$", text, flags=re.M)
            if heading:  # "Exercise 2: `rnn_step` (3 points)" -> "Exercise 2: `rnn_step`"
                title = re.sub(r"\s*\(\s*\d+(\.\d+)?\s+points?\s*\)\s*$", "", heading.group(1).strip())
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found.append((title, float(meta.get("points", 0))))
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


def setup(app):
    app.add_directive("exercises", ExercisesDirective)
    app.connect("html-page-context", _point_launch_buttons_at_notebooks, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
