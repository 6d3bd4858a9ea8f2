"""Small pieces of the daemon: stop strings, the type-ahead cache, Host checks, the token file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.backends.stops import StopMatcher
from daemon.errors import TokenError
from daemon.server.security import is_loopback_host, load_or_create_token
from daemon.services.typeahead import TypeAheadCache


def feed_all(matcher: StopMatcher, chunks: list[str]) -> str:
    return "".join(matcher.feed(c) for c in chunks) + matcher.flush()


def test_stop_split_across_chunks() -> None:
    matcher = StopMatcher(["\n\n"])
    assert feed_all(matcher, ["abc\n", "\ndef"]) == "abc"
    assert matcher.stopped


def test_partial_stop_prefix_is_released_when_it_turns_out_not_to_be_a_stop() -> None:
    matcher = StopMatcher(["<|end|>"])
    assert matcher.feed("x <|e") == "x "
    assert matcher.feed("xtra") == "<|extra"
    assert feed_all(StopMatcher(["<|end|>"]), ["a<|", "end|>b"]) == "a"


def test_no_stops_passes_everything() -> None:
    assert feed_all(StopMatcher([]), ["a", "b"]) == "ab"


def test_typeahead_answers_the_rest_of_a_prediction() -> None:
    cache = TypeAheadCache()
    cache.put("x = ", "\n", "foo(1)")
    assert cache.get("x = ", "\n") == "foo(1)"
    assert cache.get("x = fo", "\n") == "o(1)"
    assert cache.get("x = fa", "\n") is None
    assert cache.get("x = fo", "\nother") is None
    assert cache.get("x = foo(1)", "\n") is None  # fully typed: nothing left to suggest


def test_typeahead_is_bounded() -> None:
    cache = TypeAheadCache(max_entries=2)
    for i in range(3):
        cache.put(f"p{i}", "", "c")
    assert cache.get("p0", "") is None
    assert cache.get("p2", "") == "c"


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("localhost", True),
        ("localhost:11435", True),
        ("127.0.0.1:1", True),
        ("127.1.2.3", True),
        ("[::1]:11435", True),
        ("::1", True),
        ("evil.example", False),
        ("10.0.0.1:80", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, ok: bool) -> None:
    assert is_loopback_host(host) is ok


def test_token_created_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "token"
    token = load_or_create_token(path)
    assert len(token) > 30
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(path) == token


def test_token_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    load_or_create_token(path)
    os.chmod(path, 0o644)
    with pytest.raises(TokenError, match="chmod 600"):
        load_or_create_token(path)
