"""The token-length histogram PNG (matplotlib's Agg canvas: no display, no global state)."""

from __future__ import annotations

from pathlib import Path

BINS = 40


def write_histogram(path: Path, series: dict[str, list[int]], limit: int) -> None:
    """One panel per series (e.g. chat, FIM), with the ``max_seq_len`` limit marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 2.6 * max(1, len(series))), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(max(1, len(series)), 1, squeeze=False)[:, 0]
    for ax, (name, lengths) in zip(axes, series.items(), strict=False):
        if lengths:
            ax.hist(lengths, bins=BINS, color="#3b6ea8")
            ax.axvline(limit, color="#b23a3a", linestyle="--", label=f"max_seq_len {limit}")
            ax.legend(loc="upper right")
        else:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{name}: {len(lengths)} samples")
        ax.set_xlabel("tokens")
        ax.set_ylabel("count")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})
