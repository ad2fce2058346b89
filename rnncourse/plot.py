"""The course's plots and tables: one helper for each kind that several chapters draw.

Training curves come from :meth:`rnncourse.train.History.plot`. Everything here returns a
matplotlib ``Figure`` (or, for tables, an object that Jupyter renders as a table and that
prints as plain text elsewhere), so pages show them by leaving them as a cell's last value.
Figures are closed before they are returned (as ``History.plot()`` does), so the inline
backend does not draw them a second time; when a function is given ``ax=``, the caller's
figure is drawn as usual.
"""

from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["Table", "heatmap", "line_plot"]


class Table:
    """A small results table: rendered as HTML in a notebook, as aligned text in a terminal.

    ``Table(rows, columns)`` where ``rows`` is a list of sequences (or dicts keyed by column).
    Floats are shown with ``float_format``; ``None`` is shown as an empty cell.
    """

    def __init__(self, rows: Sequence[Sequence[Any] | dict], columns: Sequence[str], *,
                 float_format: str = "{:.4g}", title: str | None = None):
        self.columns = list(columns)
        self.rows = [[r.get(c) for c in self.columns] if isinstance(r, dict) else list(r) for r in rows]
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError(f"row {r!r} has {len(r)} values for {len(self.columns)} columns")
        self.float_format = float_format
        self.title = title

    def _cell(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return self.float_format.format(value)
        return str(value)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(self._cell(v))}</td>" for v in row) + "</tr>" for row in self.rows
        )
        caption = f"<caption>{escape(self.title)}</caption>" if self.title else ""
        return f'<table class="rnncourse-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __str__(self) -> str:
        cells = [self.columns] + [[self._cell(v) for v in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(([self.title] if self.title else []) + lines)

    __repr__ = __str__


def heatmap(matrix: Any, *, xlabels: Sequence[str] | None = None, ylabels: Sequence[str] | None = None,
            title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
            cmap: str = "viridis", ax: plt.Axes | None = None, colorbar: bool = True) -> plt.Figure:
    """Draw a 2-D array ``(rows, columns)``, e.g. attention weights ``(target_len, source_len)``.

    Tick labels are drawn when given (tokens, gate names); the figure is returned.
    """
    values = matrix.detach().cpu().numpy() if hasattr(matrix, "detach") else np.asarray(matrix)
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D array, got shape {values.shape}")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(4, 0.45 * values.shape[1] + 2), max(3, 0.4 * values.shape[0] + 1.5)))
    else:
        fig = ax.figure
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels), rotation=60, ha="right")
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels))
    if colorbar:
        fig.colorbar(image, ax=ax)
    ax.set(title=title or "", xlabel=xlabel or "", ylabel=ylabel or "")
    if own:
        fig.tight_layout()
        plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def line_plot(x: Sequence[float], series: dict[str, Sequence[float]], *, xlabel: str, ylabel: str,
              title: str | None = None, logy: bool = False, logx: bool = False,
              ax: plt.Axes | None = None) -> plt.Figure:
    """Several named curves over a shared x axis (accuracy against sequence length, norms
    against distance, ...). ``series`` maps a legend label to its y values."""
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for label, ys in series.items():
        ax.plot(list(x), list(ys), marker="o", markersize=3, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend()
    if own:
        fig.tight_layout()
        plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig
