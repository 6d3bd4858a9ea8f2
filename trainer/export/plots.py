"""Loss curves of a run as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def curves(history: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """Training and validation loss by step from a Trainer ``log_history``."""
    found: dict[str, tuple[list[int], list[float]]] = {"loss": ([], []), "eval_loss": ([], [])}
    for entry in history:
        for key, (steps, values) in found.items():
            if key in entry and "step" in entry:
                steps.append(int(entry["step"]))
                values.append(float(entry[key]))
    return found


def plot_losses(histories: dict[str, list[dict[str, Any]]], path: Path) -> bool:
    """One panel per stage; False (nothing written) when no stage logged a loss."""
    stages = {name: curves(history) for name, history in histories.items()}
    stages = {name: found for name, found in stages.items() if found["loss"][0]}
    if not stages:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(stages), figsize=(5 * len(stages), 3.5), squeeze=False)
    for axis, (name, found) in zip(axes[0], stages.items(), strict=True):
        axis.plot(*found["loss"], label="training loss")
        if found["eval_loss"][0]:
            axis.plot(*found["eval_loss"], marker="o", label="validation loss")
        axis.set_title(
            {"cpt": "stage 1: continued pretraining", "sft": "stage 2: chat + FIM"}.get(name, name)
        )
        axis.set_xlabel("step")
        axis.set_ylabel("loss")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    pyplot.close(figure)
    return True
