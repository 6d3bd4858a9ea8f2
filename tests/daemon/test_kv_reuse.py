"""Consecutive FIM requests reuse llama.cpp's KV cache: only the changed tail is evaluated."""

from __future__ import annotations

PREFIX = "class public Ledger\n" + "".join(f"  field public BBjNumber F{i}\n" for i in range(40))
SUFFIX = "\nclassend\n"


def test_one_more_typed_character_evaluates_only_the_tail(daemon) -> None:
    with daemon.client() as http:
        first = http.post(
            "/v1/bbj/fim",
            json={"prefix": PREFIX + "  method public void m", "suffix": SUFFIX, "max_tokens": 2},
        ).json()
        assert first["timings"]["prompt_tokens"] > 300
        for typed in ("Q", "Z", "#", "~"):
            second = http.post(
                "/v1/bbj/fim",
                json={
                    "prefix": PREFIX + "  method public void m" + typed,
                    "suffix": SUFFIX,
                    "max_tokens": 2,
                },
            ).json()
            if not second["cached"]:
                break
        else:
            raise AssertionError("every probe was answered from the type-ahead cache")
    timings = second["timings"]
    evaluated = timings["prompt_tokens"] - timings["cached_tokens"]
    # The cursor sits before the suffix, so the suffix and the middle marker are re-evaluated too.
    assert evaluated <= 12, timings
    assert timings["cached_tokens"] >= timings["prompt_tokens"] - 12


def test_typed_ahead_request_is_served_from_the_cache(daemon) -> None:
    with daemon.client() as http:
        first = http.post(
            "/v1/bbj/fim", json={"prefix": "x$ = ", "suffix": "\n", "max_tokens": 8}
        ).json()
        completion = first["completion"]
        if len(completion) < 2:
            return  # nothing to type ahead into (the tiny model produced too little)
        second = http.post(
            "/v1/bbj/fim", json={"prefix": "x$ = " + completion[0], "suffix": "\n", "max_tokens": 8}
        ).json()
    assert second["cached"] is True
    assert second["completion"] == completion[1:]
