"""The record of a training run: one row per epoch, the best epoch, a table and a plot."""

from __future__ import annotations

import math

__all__ = ["History"]


class History:
    """One record per epoch: ``epoch``, ``train_loss``, ``valid_loss``, ``valid_<metric>``, ``lr``
    (at the epoch's start) and ``seconds``. ``history["valid_loss"]`` is a list over epochs,
    ``history[-1]`` the last record; ``best_epoch`` is the epoch with the best ``monitor`` value."""

    def __init__(self, records: list[dict] | None = None, *, monitor: str = "valid_loss", mode: str = "min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.records, self.monitor, self.mode = list(records or []), monitor, mode

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str | int):
        return self.records[key] if isinstance(key, int) else [r.get(key) for r in self.records]

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for r in self.records for k in r))

    @property
    def best_epoch(self) -> int | None:
        scored = [(r[self.monitor], r["epoch"]) for r in self.records
                  if r.get(self.monitor) is not None and not math.isnan(r[self.monitor])]
        return (min if self.mode == "min" else max)(scored, key=lambda s: s[0])[1] if scored else None

    def as_dict(self) -> dict:
        """Plain lists and numbers (JSON-able): ``History.from_dict(json.loads(json.dumps(h.as_dict())))``."""
        return {"monitor": self.monitor, "mode": self.mode, "records": [dict(r) for r in self.records]}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        return cls(state["records"], monitor=state["monitor"], mode=state["mode"])

    def table(self):
        """The records as a :class:`rnncourse.plot.Table` (HTML in a notebook, text elsewhere)."""
        from rnncourse.plot import Table

        return Table(self.records, self.keys(), title=f"best epoch: {self.best_epoch} ({self.monitor})")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return str(self.table())

    def plot(self, *, title: str | None = None):
        """Loss curves (train and validation) and, beside them, the validation metrics, with the
        best epoch marked. Returns the matplotlib ``Figure``: a notebook shows it as a cell's last
        value (``history.plot()``); a script saves it (``history.plot().savefig("curves.png")``)."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        keys = self.keys()
        metrics = [k for k in keys if k.startswith("valid_") and k != "valid_loss"]
        panels = [[k for k in ("train_loss", "valid_loss") if k in keys]] + ([metrics] if metrics else [])
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
        for ax, names in zip(axes[0], panels):
            for name in names:
                ax.plot(self["epoch"], self[name], marker="o", markersize=3, label=name.replace("_", " "))
            if self.best_epoch is not None:
                ax.axvline(self.best_epoch, color="grey", linestyle="--", linewidth=1,
                           label=f"best epoch ({self.best_epoch})")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ylabel = "loss" if names is panels[0] else names[0].removeprefix("valid_") if len(names) == 1 else "metric"
            ax.set(xlabel="epoch", ylabel=ylabel)
            ax.grid(True, alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        plt.close(fig)  # shown once as a cell's value; left open, Jupyter would also show it at the cell's end
        return fig
