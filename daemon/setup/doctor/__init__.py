"""Health checks a customer admin can read: ``bbj-coder doctor`` and the TUI's Health screen.

Each check is one function returning a :class:`CheckOutcome` whose ``advice`` says, in one
sentence, what to do when the verdict is not ``ok``. The checks run on the client side: they
read the daemon's state and token files, ask its ``/health`` and FIM endpoints over HTTP, and
look at this machine (bbjcpl, GPU support, Ollama, Continue's config). Nothing here touches the
daemon's internals. :func:`run_doctor` runs them all; :func:`run_doctor_command` is
``bbj-coder doctor [--json]``.
"""

from daemon.setup.doctor._base import (
    CHECK_NAMES,
    VERDICTS,
    CheckOutcome,
    DoctorContext,
    DoctorSettings,
    Verdict,
    check_config,
    display_path,
    gather_context,
)
from daemon.setup.doctor._continue import check_continue, continue_dir
from daemon.setup.doctor._daemon import check_backend, check_daemon, check_latency
from daemon.setup.doctor._machine import check_compiler, check_gpu, check_ollama, ollama_url
from daemon.setup.doctor._model import HashCache, check_model, verify_entry
from daemon.setup.doctor._runner import (
    OutcomeCallback,
    render_json,
    render_text,
    run_doctor,
    run_doctor_command,
)

__all__ = [
    "CHECK_NAMES",
    "VERDICTS",
    "CheckOutcome",
    "DoctorContext",
    "DoctorSettings",
    "HashCache",
    "OutcomeCallback",
    "Verdict",
    "check_backend",
    "check_compiler",
    "check_config",
    "check_continue",
    "check_daemon",
    "check_gpu",
    "check_latency",
    "check_model",
    "check_ollama",
    "continue_dir",
    "display_path",
    "gather_context",
    "ollama_url",
    "render_json",
    "render_text",
    "run_doctor",
    "run_doctor_command",
    "verify_entry",
]
