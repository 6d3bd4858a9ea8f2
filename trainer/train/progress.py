"""The live progress line: stage, step, loss, validation loss, tokens/s and time left."""

from __future__ import annotations

import sys
from typing import IO, Any

from transformers import TrainerCallback

from daemon.progress import RateMeter, format_duration


class ProgressLine(TrainerCallback):
    """Redraws one line on a terminal; prints a line per logging event otherwise."""

    def __init__(self, stage: str, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.stage = stage
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.loss: float | None = None
        self.eval_loss: float | None = None
        self.tokens_per_s: float | None = None
        self.steps = RateMeter(0)
        self.tokens: RateMeter | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.steps = RateMeter(state.max_steps, state.global_step)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        logs = logs or {}
        self.loss = logs.get("loss", self.loss)
        self.eval_loss = logs.get("eval_loss", self.eval_loss)
        if "num_tokens" in logs:
            self._tokens(float(logs["num_tokens"]))
        if not self.live and ("loss" in logs or "eval_loss" in logs):
            self._draw(state, end="\n")

    def _tokens(self, seen: float) -> None:
        if self.tokens is None:
            self.tokens = RateMeter(0, seen)
            return
        self.tokens.update(seen)
        self.tokens_per_s = self.tokens.rate

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.live:
            self._draw(state, end="")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.live:
            self._draw(state, end="\n")

    def line(self, state: Any) -> str:
        step, total = state.global_step, state.max_steps
        parts = [f"[{self.stage}] step {step}/{total}"]
        parts.append(f"loss {self.loss:.4f}" if self.loss is not None else "loss -")
        parts.append(f"eval {self.eval_loss:.4f}" if self.eval_loss is not None else "eval -")
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:,.0f} tok/s")
        self.steps.update(step)
        if total > step and (eta_s := self.steps.eta_s) is not None:
            parts.append(f"ETA {format_duration(eta_s)}")
        return " | ".join(parts)

    def _draw(self, state: Any, end: str) -> None:
        if not self.enabled:
            return
        prefix = "\r\x1b[2K" if self.live else ""
        self.stream.write(prefix + self.line(state) + end)
        self.stream.flush()
