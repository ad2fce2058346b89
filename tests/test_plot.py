import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rnncourse.plot import Table, heatmap, line_plot


def test_table_renders_html_and_text():
    t = Table([["rnn", 0.51234, 100], {"model": "lstm", "acc": 0.9, "params": None}], ["model", "acc", "params"])
    html = t._repr_html_()
    assert "<th>model</th>" in html and "<td>0.5123</td>" in html and "<td></td>" in html
    lines = str(t).splitlines()
    assert lines[0].split() == ["model", "acc", "params"] and lines[2].split() == ["rnn", "0.5123", "100"]
    with pytest.raises(ValueError, match="has 2 values for 3 columns"):
        Table([[1, 2]], ["a", "b", "c"])


def test_heatmap_and_line_plot_return_figures():
    fig = heatmap(np.eye(3), xlabels=list("abc"), ylabels=list("xyz"), title="attention")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2-D"):
        heatmap(np.zeros(3))
    fig = line_plot([1, 2, 3], {"rnn": [1, 0.1, 0.01], "lstm": [1, 0.9, 0.8]}, xlabel="T-t", ylabel="norm", logy=True)
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].lines) == 2
