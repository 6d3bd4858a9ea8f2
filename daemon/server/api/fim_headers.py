"""Response headers that tell a client how a FIM completion was produced."""

from __future__ import annotations

from daemon.services.fim import FimResult


def fim_headers(result: FimResult) -> dict[str, str]:
    headers = {
        "X-BBJ-Cached": "true" if result.cached else "false",
        "X-BBJ-Finish": "superseded" if result.superseded else result.stats.finish_reason,
    }
    if result.check is not None:
        verdict = "pass" if result.check.passed else "dropped"
        headers["X-BBJ-Check"] = f"{result.check.checker}:{verdict}:{result.check.attempts}"
    elif not result.cached:
        headers["X-BBJ-Check"] = "unchecked"
    if result.prompt_truncated:
        headers["X-BBJ-Prompt-Truncated"] = "true"
    return headers
