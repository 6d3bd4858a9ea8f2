"""Consecutive FIM requests reuse llama.cpp's KV cache, and typed-ahead requests skip the model.

The evaluated-token counts come from the tokens actually handed to llama.cpp's decoder, not
from an estimate.
"""

from __future__ import annotations

import pytest

from tests.conftest import start_daemon

PREFIX = "class public Ledger\n" + "".join(f"  field public BBjNumber F{i}\n" for i in range(40))
SUFFIX = "\nclassend\n"


def _fim(http, prefix: str, max_tokens: int = 2) -> dict:
    response = http.post(
        "/v1/bbj/fim", json={"prefix": prefix, "suffix": SUFFIX, "max_tokens": max_tokens}
    )
    assert response.status_code == 200
    return response.json()


def test_one_more_typed_character_evaluates_only_the_tail(daemon) -> None:
    with daemon.client() as http:
        first = _fim(http, PREFIX + "  method public void m")
        second = _fim(http, PREFIX + "  method public void mQ")
    assert first["timings"]["prompt_tokens"] > 300
    assert second["cached"] is False  # the session daemon has no type-ahead cache
    timings = second["timings"]
    evaluated = timings["prompt_tokens"] - timings["cached_tokens"]
    # The cursor sits before the suffix, so the suffix and the middle marker are re-evaluated.
    assert 1 <= evaluated <= 12, timings


def test_an_unrelated_prompt_is_evaluated_in_full(daemon) -> None:
    with daemon.client() as http:
        _fim(http, PREFIX + "  method public void a")
        other = _fim(http, "rem a different file\n" * 30)
    timings = other["timings"]
    assert timings["prompt_tokens"] - timings["cached_tokens"] > timings["prompt_tokens"] // 2


@pytest.fixture(scope="module")
def caching_daemon(tiny_model, tmp_path_factory):
    running = start_daemon(
        tmp_path_factory.mktemp("caching"),
        "--model",
        str(tiny_model.gguf_path),
        BBJ_CODER_CHECK_FIM="false",
    )
    yield running
    running.stop()


def test_typed_ahead_request_is_served_from_the_cache(caching_daemon) -> None:
    with caching_daemon.client() as http:
        prefix = "rem typed ahead\nx$ = "
        first = _fim(http, prefix, max_tokens=16)
        completion = first["completion"]
        assert len(completion) >= 2, "precondition: a completion long enough to type into"
        second = _fim(http, prefix + completion[0], max_tokens=16)
    assert second["cached"] is True
    assert second["completion"] == completion[1:]
    assert second["timings"]["completion_tokens"] == 0
