"""Fixtures for the HTTP backends: a stand-in Ollama, and generations that run long on cue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from tokenizers import Tokenizer

from tests.backends.standins import FakeOllama, ollama_app, serving
from tests.conftest import RunningDaemon, start_daemon

LONG = 3000  # tokens asked for when a generation must outlast the test's patience


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    state = FakeOllama()
    with serving(ollama_app(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def upstream(tiny_model, tmp_path) -> Iterator[RunningDaemon]:
    """A second daemon to serve as a team's upstream, which a test may stall or kill."""
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(tiny_model.gguf_path),
        BBJ_CODER_MODEL_N_CTX="8192",
        BBJ_CODER_CHECK_FIM="false",
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def endless(tiny_model) -> tuple[tuple[int, float], ...]:
    """logit_bias banning every special token and newline: the tiny model then never stops."""
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    banned = [i for text, i in vocab.items() if text.startswith("<|") or "Ċ" in text or "č" in text]
    return tuple((i, -100.0) for i in sorted(banned))


@dataclass(frozen=True)
class LongPrompt:
    prompt: str
    tokens: int  # what the daemon generates for it, undisturbed, at temperature 0


@pytest.fixture(scope="session")
def long_raw_prompt(daemon) -> LongPrompt:
    """A raw prompt the tiny model answers at length (greedy) through ``/api/generate``.

    Ollama's API has no logit_bias, so the tiny model stops wherever its random weights say;
    this finds a prompt whose undisturbed answer is long, and measures it.
    """
    with daemon.client() as http:
        for i in range(80):
            prompt = f"rem program {i}\n"
            answer = http.post(
                "/api/generate",
                json={
                    "model": "bbj-coder",
                    "prompt": prompt,
                    "raw": True,
                    "stream": False,
                    "options": {"num_predict": LONG, "temperature": 0},
                },
            ).json()
            if answer["eval_count"] >= 800:
                return LongPrompt(prompt, answer["eval_count"])
    pytest.fail("no probe prompt makes the tiny model write 800 tokens; widen the search")


async def running(http: httpx.AsyncClient, lane: str) -> int:
    """The daemon's ``bbj_coder_generations_running`` gauge for ``lane`` (asynchronously: the
    backend under test shares the event loop and must keep running meanwhile)."""
    text = (await http.get("/metrics")).text
    match = re.search(rf'^bbj_coder_generations_running\{{lane="{lane}"\}} (\d+)$', text, re.M)
    return int(match.group(1)) if match else 0
