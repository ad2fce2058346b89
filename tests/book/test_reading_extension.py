"""The book extension that shapes how pages read (book/_ext/rnncourse_reading.py), without a build.

test_browser.py checks the built pages in a browser; these check the pieces on small inputs.
"""

from __future__ import annotations

import html
import re
import sys

from docutils import nodes

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import rnncourse_reading as reading  # noqa: E402

sys.path.pop(0)


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _block(lines: list[str]) -> str:
    return '<div class="highlight"><pre><span></span>' + "\n".join(lines) + "\n</pre></div>"


def test_every_line_becomes_a_block_with_its_indentation_and_the_text_is_unchanged():
    code = ['<span class="k">def</span> f(x):', '    <span class="k">return</span> x &lt; 2', "",
            "        # deeper"]
    page = "<p>before</p>" + _block(code) + "<p>after</p>"
    out = reading.hanging_indents(page)
    assert _text(out) == _text(page)  # copying a block copies the same text
    assert re.findall(r"--rc-indent:(\d+)", out) == ["0", "4", "0", "8"]
    assert out.count('class="rc-line"') == 4 and "rc-columns" not in out
    assert out.startswith("<p>before</p>") and out.endswith("<p>after</p>")


def test_a_printed_table_keeps_its_columns_and_prose_output_wraps():
    table = ["model   loss    accuracy", "-----   -----   --------", "rnn     0.61    0.70",
             "lstm    0.43    0.81"]
    assert 'class="rc-columns"' in reading.hanging_indents(_block(table))
    prose = ["epoch 1: the loss fell from 0.69 to 0.52 in 12 s", "saved the best weights",
             "test accuracy 81.2% on 600 reviews"]
    assert "rc-columns" not in reading.hanging_indents(_block(prose))


def test_folders_of_the_build_machine_are_shown_by_name():
    paths = sorted([("/tmp/build/data", "$RNNCOURSE_DATA"), ("/work/main", "<repository>"),
                    ("/tmp", "<temporary folder>")], key=lambda p: -len(p[0]))
    text = ("data cache         /tmp/build/data (RNNCOURSE_DATA)\n"
            "ready -> /tmp/build/data/imdb/aclImdb\n"
            "python 3.11 (/work/main/.venv/bin/python); /work/mainframe stays; /tmp/x.pt")
    shown = reading.without_machine_paths(text, paths)
    assert "$RNNCOURSE_DATA (RNNCOURSE_DATA)" in shown
    assert "ready -> $RNNCOURSE_DATA/imdb/aclImdb" in shown
    assert "(<repository>/.venv/bin/python)" in shown
    assert "/work/mainframe stays" in shown  # only whole folders are replaced
    assert "<temporary folder>/x.pt" in shown


def test_a_figure_without_a_caption_gets_the_sentence_that_introduces_it():
    section = nodes.section()
    section += nodes.title(text="Training")
    section += nodes.paragraph(text="Some earlier text. The plot shows the training and validation "
                                    "loss per epoch, on a log axis:")
    cell = nodes.container(classes=["cell"])
    output = nodes.container(classes=["cell_output"])
    image = nodes.image(uri="abc.png")
    output += image
    cell += output
    section += cell
    document = nodes.document(None, None)
    document += section
    reading._alt_text(None, document, "page")
    assert image["alt"] == ("Figure: Some earlier text. The plot shows the training and validation "
                            "loss per epoch, on a log axis")


def test_a_caption_is_the_alt_text():
    figure = nodes.figure()
    image = nodes.image(uri="abc.png")
    figure += image
    figure += nodes.caption(text="Accuracy against   the length of the review.")
    document = nodes.document(None, None)
    document += figure
    reading._alt_text(None, document, "page")
    assert image["alt"] == "Accuracy against the length of the review."
