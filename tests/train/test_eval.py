"""The evaluation's metrics, the report, and evaluating HF directories."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest

from trainer.evaluate.metrics import (
    edit_similarity,
    exact_match,
    levenshtein,
    pass_at_k,
    percentile,
)
from trainer.evaluate.report import comparison_table
from trainer.evaluate.run import parse_model
from trainer.evaluate.tasks import answer_compiles, chat_prompts


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (c passing) that hold at least one pass."""
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(outcomes[i] for i in subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 0, 1), (5, 1, 1), (5, 2, 3), (6, 3, 2), (4, 4, 4)])
def test_pass_at_k_is_the_unbiased_estimator(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k))


def test_pass_at_k_rejects_k_above_n() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_edit_similarity_and_exact_match() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert edit_similarity("print x", "print x") == 1.0
    assert edit_similarity("abcd", "abxd") == pytest.approx(0.75)
    assert edit_similarity("", "") == 1.0 and edit_similarity("", "ab") == 0.0
    assert exact_match("  print x  \n\n", "  print x\n")
    assert not exact_match("print x", "print  x")


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert percentile([], 0.95) == 0.0


def test_answers_compile_only_with_code_that_passes() -> None:
    def check(code: str) -> bool:
        return "BROKEN" not in code

    assert answer_compiles("Here:\n```bbj\nprint 1\n```\n", check)
    assert not answer_compiles("No code at all.", check)
    assert not answer_compiles("```bbj\nprint 1\n```\n```bbj\nBROKEN\n```\n", check)


def test_only_prompts_whose_reference_has_code_are_asked() -> None:
    records = [
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "```bbj\nprint 1\n```"},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": "b"},
                {"role": "assistant", "content": "Just words."},
            ]
        },
    ]
    assert chat_prompts(records) == [[{"role": "user", "content": "a"}]]


def test_model_labels() -> None:
    assert parse_model("base=/m/base.gguf") == ("base", Path("/m/base.gguf"))
    assert parse_model("/m/tuned.q4_k_m.gguf") == ("tuned.q4_k_m", Path("/m/tuned.q4_k_m.gguf"))
    assert parse_model("/m/hf-dir") == ("hf-dir", Path("/m/hf-dir"))


def test_the_table_compares_the_last_model_with_the_first() -> None:
    evaluation = {
        "models": [
            {"label": "base", "chat": {"compile@1": 0.2, "latency_s": {"p50": 1.0}}},
            {"label": "tuned", "chat": {"compile@1": 0.6, "latency_s": {"p50": 1.5}}},
        ]
    }
    table = comparison_table(evaluation)
    assert table[0] == "| metric | base | tuned | tuned vs base |"
    assert "| chat compile@1 | 0.200 | 0.600 | +0.400 (better) |" in table
    assert "| chat latency p50 (s) | 1.000 | 1.500 | +0.500 (worse) |" in table
    assert not any("FIM" in row for row in table)  # metrics nobody measured are left out


def test_an_hf_directory_is_evaluated_with_transformers(
    tiny_hf, tiny_data: Path, tmp_path: Path
) -> None:
    pytest.importorskip("transformers")
    from trainer.evaluate.run import EvalOptions, run_eval
    from trainer.evaluate.tasks import ChatSettings

    options = EvalOptions(
        models=(("hf", tiny_hf.hf_dir),),
        data=tiny_data,
        out=tmp_path,
        chat=ChatSettings(max_tokens=8, samples=3, ks=(1, 2)),
        fim_max_tokens=8,
        limit=2,
        checker="builtin",
        progress=False,
    )
    run_eval(options, say=lambda _t: None)
    model = json.loads((tmp_path / "eval.json").read_text())["models"][0]
    assert model["kind"] == "hf" and model["chat"]["prompts"] == 2
    assert set(model["chat"]["compile@k"]) == {"1", "2"}
    assert model["fim"]["samples"] == 2 and model["fim"]["latency_s"]["mean"] > 0


def test_a_missing_model_is_refused(tiny_data: Path, tmp_path: Path) -> None:
    from trainer.evaluate.run import EvalOptions, run_eval
    from trainer.train.errors import TrainError

    with pytest.raises(TrainError, match="does not exist"):
        run_eval(
            EvalOptions(models=(("x", tmp_path / "x.gguf"),), data=tiny_data, out=tmp_path),
            say=lambda _t: None,
        )


class SilentRunner:
    """A model that always answers with nothing (what a collapsed fine-tune does)."""

    kind = "silent"

    def chat(self, messages: list[dict[str, str]], sampling: object) -> object:
        from trainer.evaluate.runners import Generated

        return Generated("", 0.01, 0)

    def fim(self, prompt: str, sampling: object) -> object:
        from trainer.evaluate.runners import Generated

        return Generated("", 0.01, 0)

    def close(self) -> None: ...


def test_a_silent_model_scores_zero_on_the_test_split(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainer.evaluate.run import EvalOptions, run_eval
    from trainer.train.inputs import read_jsonl

    monkeypatch.setattr("trainer.evaluate.runners.open_runner", lambda *_a: SilentRunner())
    model = tmp_path / "silent.gguf"
    model.write_bytes(b"GGUF")
    options = EvalOptions(
        models=(("silent", model),), data=tiny_data, out=tmp_path, checker="builtin", progress=False
    )
    evaluation = run_eval(options, say=lambda _t: None)
    fim = evaluation["models"][0]["fim"]
    assert evaluation["split"] == "test"
    assert fim["samples"] == len(read_jsonl(tiny_data / "fim_test.jsonl")) > 0
    assert fim["non_empty_share"] == 0.0
    assert fim["compile_rate_non_empty"] == 0.0 and fim["compile_checked"] == 0
    assert fim["adds_no_error"] == 1.0
    report = (tmp_path / "eval.md").read_text()
    assert "Split: test; checker: built-in checker" in report
    assert f"{fim['samples']} FIM samples" in report
    assert "| FIM compile rate (non-empty) | 0.000 |" in report
    assert "| FIM non-empty share | 0.000 |" in report


def test_an_old_build_without_a_test_split_is_refused(tiny_data: Path, tmp_path: Path) -> None:
    import shutil

    from trainer.evaluate.run import held_out_data
    from trainer.train.errors import TrainError

    old = tmp_path / "old"
    shutil.copytree(tiny_data, old)
    (old / "fim_test.jsonl").unlink()
    with pytest.raises(TrainError, match="no test split"):
        held_out_data(old, None)
