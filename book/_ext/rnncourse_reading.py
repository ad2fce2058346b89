"""How the built pages read: code that keeps its indentation, outputs that fit, honest images.

Loaded by ``rnncourse_book`` (``app.setup_extension``); the styles it relies on are in
``book/_static/rnncourse.css``, and ``tests/book/test_browser.py`` checks the result in a browser.

* **Hanging indents.** Every line of a highlighted block (code and text outputs alike) becomes a
  block of its own that carries its indentation (``--rc-indent``, in characters), so a line too
  long for the column wraps and continues four characters right of where it started instead of
  at the block's left edge. Copying a block still copies its text unchanged.
* **Tables in text outputs.** A printed output whose lines line up in columns (a table printed
  as text) is marked ``rc-columns``: it keeps its layout and scrolls inside its own box when it
  is wider than the column, while every other text output wraps.
* **A smoke build says so.** Under the ``smoke`` profile every page starts with a note that its
  numbers come from tiny runs (``RNNCOURSE_PROFILE``; the profile is a config value, so a build
  under another profile rewrites every page).
* **Alt text.** Sphinx writes an image's file path where it has no alt text. An image in a figure
  with a caption gets the caption; an executed cell's image gets the paragraph that introduces the
  cell (its last sentences), since the pages say what a plot shows right before drawing it. An
  image with neither is left for the browser test to report.
* **No build machine in the outputs.** Folders of the machine that built the book (the checkout,
  the data cache and mirror, the Python environment, the home and temporary folders) are shown by
  name in executed cells' text outputs (``$RNNCOURSE_DATA/imdb``, ``<repository>/book``).
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from docutils import nodes

SMOKE_NOTE = (
    "This page was built under the smoke profile: every number in its outputs comes from a tiny "
    "run that only checks that the code works, so accuracies, losses and timings here say "
    "nothing about the methods. Build it with RNNCOURSE_PROFILE=cpu (or gpu) for real figures; "
    "the measured ones are on the "
)

# One highlighted block: Pygments writes ``<div class="highlight"><pre>`` ... ``</pre></div>``, one
# line of text per source line, with every token's span closed before the line ends.
_BLOCK = re.compile(r'(<div class="highlight"><pre>)(.*?)(</pre></div>)', re.S)
_TAG = re.compile(r"<[^>]+>")
# Two or more spaces between two characters that are not spaces: a column gap.
_GAP = re.compile(r"(?<=\S)  +(?=\S)")


def _profile(app) -> str:
    sys.path.insert(0, str(Path(app.srcdir).resolve().parent))
    try:
        from rnncourse.runtime.profiles import get_profile
    finally:
        sys.path.pop(0)
    return get_profile()


def _set_profile(app, config):
    config.rnncourse_profile = _profile(app)


def _indent(line_html: str) -> int:
    text = html.unescape(_TAG.sub("", line_html))
    return len(text) - len(text.lstrip(" "))


def _looks_like_columns(lines: list[str]) -> bool:
    """At least three lines, half of them or more, with a column gap at one common position."""
    texts = [html.unescape(_TAG.sub("", line)) for line in lines if line.strip()]
    if len(texts) < 3:
        return False
    ends: dict[int, int] = {}
    for text in texts:
        for gap in {m.end() for m in _GAP.finditer(text)}:
            ends[gap] = ends.get(gap, 0) + 1
    return bool(ends) and max(ends.values()) >= max(3, len(texts) // 2)


def _lines_as_blocks(match: re.Match) -> str:
    head, body, tail = match.groups()
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    spans = [f'<span class="rc-line" style="--rc-indent:{_indent(line)}">{line}\n</span>'
             for line in lines]
    columns = ' class="rc-columns"' if _looks_like_columns(lines) else ""
    return f'{head[:-5]}<pre{columns}>{"".join(spans)}{tail}'


def hanging_indents(body: str) -> str:
    """``body`` (a page's HTML) with every highlighted block's lines as blocks of their own."""
    return _BLOCK.sub(_lines_as_blocks, body)


def _machine_paths(app) -> list[tuple[str, str]]:
    """``(path, shown as)`` for the folders of the machine that builds the book, longest first."""
    import os
    import tempfile

    found = {
        os.environ.get("RNNCOURSE_DATA", "").strip(): "$RNNCOURSE_DATA",
        os.environ.get("RNNCOURSE_MIRROR", "").strip(): "$RNNCOURSE_MIRROR",
        str(Path(app.srcdir).resolve().parent): "<repository>",
        sys.prefix: "<python environment>",
        str(Path(app.outdir).resolve().parent.parent): "<build folder>",
        tempfile.gettempdir(): "<temporary folder>",
        str(Path.home()): "~",
    }
    paths = [(str(Path(p).resolve()), shown) for p, shown in found.items() if p and len(p) > 1]
    paths += [(p, shown) for p, shown in found.items() if p and len(p) > 1]
    return sorted(set(paths), key=lambda item: -len(item[0]))


def without_machine_paths(text: str, paths: list[tuple[str, str]]) -> str:
    """``text`` with every folder of the building machine shown by name (``$RNNCOURSE_DATA/imdb``,
    ``<repository>/book``): what a cell prints about paths is then true of any reader's machine."""
    for path, shown in paths:
        text = re.sub(re.escape(path) + r"(?=[/\\\s'\"),.:;]|$)", shown.replace("\\", r"\\"), text)
    return text


def _outputs_without_machine_paths(app, doctree, docname):
    """Text outputs of executed cells (myst-nb's ``cell_output`` containers), not the prose."""
    paths = _machine_paths(app)
    for output in doctree.findall(lambda n: isinstance(n, nodes.container)
                                  and "cell_output" in n.get("classes", [])):
        for block in list(output.findall(nodes.literal_block)):
            text = block.astext()
            clean = without_machine_paths(text, paths)
            if clean != text:
                block.rawsource = clean
                block.children = []
                block += nodes.Text(clean)


def _rewrite_body(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = hanging_indents(context["body"])


def _smoke_note(app, doctree, docname):
    """Under ``smoke``, a note right below the page's title (or at its top when it has none)."""
    if app.config.rnncourse_profile != "smoke":
        return
    note = nodes.admonition(classes=["warning", "rnncourse-smoke"])
    note += nodes.title(text="Numbers from a smoke build")
    text = nodes.paragraph(text=SMOKE_NOTE)
    ref = nodes.reference("", "Reference numbers", internal=True,
                          refuri=app.builder.get_relative_uri(docname, "reference-numbers"))
    text += ref
    text += nodes.Text(" page.")
    note += text
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, note)
    else:
        doctree.insert(0, note)


def _introducing_text(image, limit: int = 300) -> str:
    """The prose that introduces a cell's figure: the paragraph just before the code cell (the
    book's pages say what a plot shows right before the cell that draws it), its last sentences
    when it is long. Empty when the cell follows no paragraph."""
    node = image
    while node is not None and "cell" not in node.get("classes", []):
        node = node.parent
    if node is None or node.parent is None:
        return ""
    siblings = node.parent.children
    for before in reversed(siblings[:siblings.index(node)]):
        if isinstance(before, nodes.paragraph):
            text = " ".join(before.astext().split()).rstrip(":").strip()
            sentences = re.split(r"(?<=[.!?])\s+", text)
            shown = sentences.pop()
            while sentences and len(sentences[-1]) + len(shown) < limit:
                shown = f"{sentences.pop()} {shown}"
            return shown
        if isinstance(before, nodes.section):
            break
    return ""


def _alt_text(app, doctree, docname):
    """An image inside a figure with a caption gets the caption as its alt text; an executed
    cell's image without one gets the prose that introduces the cell."""
    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is None:
            continue
        for image in figure.findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = " ".join(caption.astext().split())
    for image in doctree.findall(nodes.image):
        if not image.get("alt"):
            text = _introducing_text(image)
            if text:
                image["alt"] = f"Figure: {text}"


def setup(app):
    app.add_config_value("rnncourse_profile", None, "env")
    app.connect("config-inited", _set_profile)
    app.connect("doctree-resolved", _smoke_note)
    app.connect("doctree-resolved", _alt_text)
    app.connect("doctree-resolved", _outputs_without_machine_paths)
    app.connect("html-page-context", _rewrite_body)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
