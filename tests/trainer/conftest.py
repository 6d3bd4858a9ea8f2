"""Fixtures for the data-pipeline tests: the tiny tokenizer, a fake checker, input writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from daemon.models.tinymodel import build_tiny_model
from trainer.data.config import DataConfig
from trainer.data.tokens import HFTokenCounter, load_token_counter


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tokenizer.json`` of the tiny test model (byte-level BPE, Qwen2.5-Coder tokens)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-tokenizer")).tokenizer_path


@pytest.fixture(scope="session")
def counter(tiny_tokenizer: Path) -> HFTokenCounter:
    loaded = load_token_counter(tiny_tokenizer)
    assert isinstance(loaded, HFTokenCounter)
    return loaded


@dataclass(frozen=True)
class FakeResult:
    ok: bool
    diagnostics: tuple
    checker: str = "fake"


@dataclass(frozen=True)
class FakeDiagnostic:
    line: int
    message: str


def fake_check(code: str) -> FakeResult:
    """Fails code that contains the word BROKEN, on the line where it appears."""
    for number, line in enumerate(code.splitlines(), start=1):
        if "BROKEN" in line:
            return FakeResult(False, (FakeDiagnostic(number, "broken statement"),))
    return FakeResult(True, ())


@pytest.fixture
def checker() -> Callable[[str], FakeResult]:
    return fake_check


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., DataConfig]:
    """A quiet config writing under ``tmp_path/out``; keyword arguments override fields."""

    def make(**changes: object) -> DataConfig:
        base = DataConfig(out=tmp_path / "out", progress=False, check_code=False)
        return replace(base, **changes)

    return make


def _markdown_example(front: dict[str, object], sections: dict[str, str]) -> str:
    """A Markdown example: YAML front matter from ``front``, then ``## name`` sections."""
    lines = ["---"]
    for key, value in front.items():
        lines.append(f"{key}: {json.dumps(value)}")
    lines += ["---", ""]
    for name, body in sections.items():
        lines += [f"## {name}", "", body.strip("\n"), ""]
    return "\n".join(lines)


@pytest.fixture
def write_markdown(tmp_path: Path) -> Callable[..., Path]:
    """Write an example into ``tmp_path/md``: front matter fields and sections as given."""

    def write(name: str, front: dict[str, object], sections: dict[str, str]) -> Path:
        path = tmp_path / "md" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_markdown_example(front, sections), encoding="utf-8")
        return path

    return write


def _chat_line(user: str, assistant: str, **extra: object) -> str:
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return json.dumps({"messages": messages, **extra})


@pytest.fixture
def chat_line() -> Callable[..., str]:
    """One ChatML JSONL line: ``chat_line(user, assistant, generation="dwc")``."""
    return _chat_line


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[str, list[str]], Path]:
    def write(name: str, lines: list[str]) -> Path:
        path = tmp_path / "chat" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    return write


def _bbj_source(index: int, lines: int = 30) -> str:
    """A plausible BBj program of about ``lines`` lines, different for every ``index``."""
    body = [f"rem program {index}", f"declare BBjString name{index}$"]
    while len(body) < lines:
        n = len(body)
        body += [
            f"for i = 1 to {n + index}",
            f'    print "line {n} of program {index}: ", i',
            "next i",
            f"if total > {n} then",
            f"    total = total - {n}",
            "fi",
            f"name{index}$ = str(total)",
        ]
    return "\n".join(body[:lines]) + "\nend\n"


@pytest.fixture
def bbj_source() -> Callable[..., str]:
    return _bbj_source
