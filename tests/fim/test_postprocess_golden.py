"""Golden cases for every post-processing filter and the default chain (tests/fim/golden)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from fim import postprocess as pp

GOLDEN_DIR = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class GoldenCase:
    filter_name: str
    name: str
    prefix: str
    suffix: str
    completion: str
    expected: str


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "\n".join(value)


def _load_cases() -> list[GoldenCase]:
    cases = []
    for path in sorted(GOLDEN_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            fields = {k: _text(raw[k]) for k in ("prefix", "suffix", "completion", "expected")}
            cases.append(GoldenCase(data["filter"], raw["name"], **fields))
    return cases


CASES = _load_cases()
CHAIN_CASES = [case for case in CASES if case.filter_name == "chain"]


def _run(case: GoldenCase) -> str:
    if case.filter_name == "chain":
        return pp.postprocess(case.completion, case.prefix, case.suffix)
    step = getattr(pp, case.filter_name)
    return step(case.completion, pp.FimContext.build(case.prefix, case.suffix))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.filter_name}: {c.name}")
def test_golden_case(case: GoldenCase) -> None:
    assert _run(case) == case.expected


def test_golden_data_covers_every_filter_with_enough_cases() -> None:
    covered = {case.filter_name for case in CASES}
    assert {f.__name__ for f in pp.DEFAULT_CHAIN} | {"chain"} <= covered
    assert len(CASES) >= 40
    assert len({(c.filter_name, c.name) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CHAIN_CASES, ids=lambda c: c.name)
def test_streaming_early_stop_gives_the_same_answer(case: GoldenCase) -> None:
    """Feeding the completion line by line and stopping early never changes the result."""
    ctx = pp.FimContext.build(case.prefix, case.suffix)
    partial = ""
    for line in case.completion.splitlines(keepends=True):
        partial += line
        stop = pp.early_stop_index(partial, ctx)
        if stop is not None:
            partial = partial[:stop]
            break
    assert pp.apply_chain(partial, ctx) == case.expected
