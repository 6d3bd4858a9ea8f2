"""Everything a request handler needs, held in one object owned by the app (no module globals)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from daemon import __version__
from daemon.backends.base import Backend, BackendInfo
from daemon.config import Config
from daemon.errors import BackendUnavailableError
from daemon.fim_service import FimResult, FimService
from daemon.metrics import Metrics
from daemon.paths import AppPaths

GENERIC_MODEL_ALIAS = "bbj-coder"


@dataclass
class Runtime:
    config: Config
    paths: AppPaths
    token: str
    backend: Backend | None = None
    backend_reason: str = ""
    model_error: str | None = None
    fim: FimService | None = None
    model_name: str = GENERIC_MODEL_ALIAS
    demo: bool = False
    metrics: Metrics = field(default_factory=Metrics)
    started_at: float = field(default_factory=time.time)
    version: str = __version__

    @property
    def status(self) -> str:
        return "ok" if self.backend is not None and self.model_error is None else "degraded"

    def require_backend(self) -> Backend:
        if self.backend is None:
            reason = self.model_error or "no model is loaded"
            raise BackendUnavailableError(f"No model is available: {reason}")
        return self.backend

    def require_fim(self) -> FimService:
        self.require_backend()
        if self.fim is None:
            raise BackendUnavailableError(
                "The loaded model has no fill-in-the-middle tokens, so it cannot do tab "
                "completion; set model.fim_format or use a code model such as Qwen2.5-Coder."
            )
        return self.fim

    def record_fim(self, result: FimResult) -> None:
        outcome = (
            "cached"
            if result.cached
            else "superseded"
            if result.superseded
            else ("empty" if not result.text else "served")
        )
        self.metrics.fim_total[outcome] += 1
        stats = result.stats
        self.metrics.observe_generation(
            stats.prompt_tokens, stats.cached_tokens, stats.completion_tokens
        )

    def backend_info(self) -> BackendInfo | None:
        return self.backend.info() if self.backend is not None else None

    def model_names(self) -> list[str]:
        names = [self.model_name]
        if GENERIC_MODEL_ALIAS not in names:
            names.append(GENERIC_MODEL_ALIAS)
        return names

    def knows_model(self, name: str) -> bool:
        base = name.removesuffix(":latest")
        return base in self.model_names() or name in self.model_names()
