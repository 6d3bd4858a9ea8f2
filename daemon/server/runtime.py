"""Everything a request handler needs, held in one object owned by the app (no module globals)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from daemon import __version__
from daemon.backends.base import Backend, BackendInfo, GenerationStats
from daemon.backends.fallback import NOT_NEEDED, Attempt, FallbackBackend
from daemon.check import Checker, describe_checker, select_checker
from daemon.config import Config
from daemon.errors import BackendUnavailableError
from daemon.paths import AppPaths
from daemon.server.loader import ModelSlot
from daemon.server.metrics import Metrics
from daemon.services.chat import ChatService
from daemon.services.fim import CompileGate, FimResult, FimService
from daemon.services.generate import GenerateService
from daemon.services.next_edit import NextEditService
from daemon.workspace import Workspace

GENERIC_MODEL_ALIAS = "bbj-coder"


@dataclass
class Runtime:
    config: Config
    paths: AppPaths
    token: str
    slot: ModelSlot = field(default_factory=lambda: ModelSlot(name=GENERIC_MODEL_ALIAS, path=None))
    demo: bool = False
    config_path: Path | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    checker: Checker | None = None
    metrics: Metrics = field(default_factory=Metrics)
    started_at: float = field(default_factory=time.time)
    version: str = __version__
    reload_error: str | None = None
    _retiring: set[asyncio.Task[None]] = field(default_factory=set)
    _leases: Counter[int] = field(default_factory=Counter)
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_edits: dict[int, NextEditService] = field(default_factory=dict)
    workspace: Workspace | None = None
    """The workspace index (None when ``[workspace]`` is off or has no roots)."""

    def __post_init__(self) -> None:
        if self.checker is None:
            check = self.config.check
            self.checker = select_checker(
                check.checker, check.bbjcpl or None, check.timeout_s, retry_s=check.bbjcpl_retry_s
            )

    # the served model (read through the slot so a swap is one assignment) -------------------
    @property
    def backend(self) -> Backend | None:
        return self.slot.backend

    @property
    def fim(self) -> FimService | None:
        return self.slot.fim

    @property
    def model_name(self) -> str:
        return self.slot.name

    @property
    def model_error(self) -> str | None:
        return self.slot.error

    @property
    def backend_reason(self) -> str:
        """One sentence: which backend serves and why the ones before it do not."""
        attempts = self.backend_attempts()
        if not attempts:
            return self.slot.reason
        failed = [a for a in attempts if not a.ok and a.reason != NOT_NEEDED]
        serving = next((a.backend for a in attempts if a.ok), None)
        if serving is None:
            head = "no backend can serve"
        elif not failed:
            head = "first choice of backend.kind = auto"
        else:
            head = (
                f"{serving} serves because " + " and ".join(a.backend for a in failed) + " cannot"
            )
        return "; ".join([head, *(f"{a.backend}: {a.reason}" for a in failed)])

    def backend_attempts(self) -> list[Attempt]:
        """Why each backend of an ``auto`` chain is or is not serving, as of now."""
        if isinstance(self.backend, FallbackBackend):
            return self.backend.attempts()
        return list(self.slot.attempts)

    def swap(self, new: ModelSlot) -> None:
        """Serve ``new`` from now on; the old model closes when its last request is done."""
        old, self.slot = self.slot, new
        if not self._leases[id(old)]:
            self._retire(old)

    @contextmanager
    def lease(self) -> Iterator[ModelSlot]:
        """Pin the current slot for one whole request (streaming included)."""
        slot = self.slot
        self._leases[id(slot)] += 1
        try:
            yield slot
        finally:
            self._leases[id(slot)] -= 1
            if not self._leases[id(slot)]:
                del self._leases[id(slot)]
                if slot is not self.slot:
                    self._retire(slot)

    def bound(self, slot: ModelSlot) -> Runtime:
        """A view of this runtime that serves ``slot`` whatever a reload does meanwhile."""
        return self if slot is self.slot else replace(self, slot=slot)

    def _retire(self, slot: ModelSlot) -> None:
        if slot.backend is None or slot.backend is self.slot.backend:
            return
        task = asyncio.get_running_loop().create_task(slot.backend.close())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        if self.backend is not None:
            await self.backend.close()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    # derived views --------------------------------------------------------------------------
    def checker_description(self) -> str:
        assert self.checker is not None
        return describe_checker(self.checker)

    @property
    def status(self) -> str:
        return "ok" if self.backend is not None and self.model_error is None else "degraded"

    def require_backend(self) -> Backend:
        if self.backend is None:
            reason = self.model_error or "no model is loaded"
            raise BackendUnavailableError(f"No model is available: {reason}")
        return self.backend

    def require_fim(self) -> FimService:
        fim = self.fim
        self.require_backend()
        if fim is None:
            raise BackendUnavailableError(
                "The loaded model has no fill-in-the-middle tokens, so it cannot do tab "
                "completion; set model.fim_format or use a code model such as Qwen2.5-Coder."
            )
        fim.pinned_context = self.workspace.pinned if self.workspace is not None else None
        return fim

    def compile_gate(self) -> CompileGate | None:
        """The FIM compile gate, or None when ``check.fim`` is off."""
        if not self.config.check.fim or self.checker is None:
            return None
        return CompileGate(self.checker, self.config.check.fim_candidates)

    def chat_service(self) -> ChatService:
        assert self.checker is not None
        service = ChatService(self.require_backend(), self.checker, self.config.check)
        if self.workspace is not None and self.workspace.ready.is_set():
            service.workspace_note = self.workspace.chat_note
        return service

    def generate_service(self) -> GenerateService:
        """Checked generation on the served model, with chat's workspace note and metrics."""
        assert self.checker is not None

        def count(stats: GenerationStats) -> None:
            self.metrics.observe_generation(
                stats.prompt_tokens, stats.cached_tokens, stats.completion_tokens
            )

        return GenerateService.from_config(
            self.require_backend(),
            self.checker,
            self.config,
            chat=self.chat_service(),
            on_stats=count,
        )

    def record_fim(self, result: FimResult) -> None:
        if result.cached:
            outcome = "cached"
        elif result.superseded:
            outcome = "superseded"
        else:
            outcome = "served" if result.text else "empty"
        self.metrics.fim_total[outcome] += 1
        stats = result.stats
        self.metrics.observe_generation(
            stats.prompt_tokens, stats.cached_tokens, stats.completion_tokens
        )

    def next_edit_service(self) -> NextEditService:
        """The next-edit service of the served backend (one per backend and settings, so its
        supersession state lives as long as the model does)."""
        backend = self.require_backend()
        service = self.next_edits.get(id(backend))
        if service is None or service.settings != self.config.next_edit:
            info = backend.info()
            service = NextEditService(backend, self.config.next_edit, info.context_length)
            self.next_edits.clear()  # a reload's old backend must not be kept alive here
            self.next_edits[id(backend)] = service
        return service

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
