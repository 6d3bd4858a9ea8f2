"""Next-edit samples from a git history, rendered by the daemon's own prompt builder."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from daemon.backends.base import BackendInfo, SamplingParams, TextStream
from daemon.config import NextEditSettings as DaemonNextEditSettings
from daemon.services.next_edit import NextEditRequest, NextEditService
from fim.next_edit import Hunk, Position
from trainer.data.build import build_dataset
from trainer.data.next_edit_samples import NextEditSettings, next_edit_samples
from trainer.data.records import DataError
from trainer.evaluate.next_edit import evaluate_next_edit
from trainer.evaluate.runners import Generated, Sampling

ORIGINAL = [
    "rem orders",
    "x = 0",
    "for i = 1 to 10",
    "  x = x + i",
    "next i",
    "print x",
    *[f'print "filler {n}"' for n in range(30)],
    'print "end"',
]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo), *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Commit 1 adds orders.bbj; commit 2 renames x to total (three hunks near each other)
    and edits a far-away line; commit 3 changes a non-BBj file only."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "orders.bbj").write_text("\n".join(ORIGINAL) + "\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "orders")
    changed = list(ORIGINAL)
    changed[1], changed[3], changed[5] = "total = 0", "  total = total + i", "print total"
    changed[-1] = 'print "the end"'
    (repo / "orders.bbj").write_text("\n".join(changed) + "\n")
    _git(repo, "commit", "-qam", "rename")
    (repo / "notes.txt").write_text("not BBj\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "notes")
    return repo


def settings(noop_rate: float = 1.0) -> NextEditSettings:
    return NextEditSettings(extensions=(".bbj",), noop_rate=noop_rate)


def test_commit_hunks_become_trajectories_and_a_noop(repo: Path) -> None:
    samples = next_edit_samples((repo,), settings())
    edits = [s for s in samples if s["kind"] == "edit"]
    noops = [s for s in samples if s["kind"] == "noop"]
    # Hunks 2 and 3 of the rename follow their predecessors inside the window; the far edit
    # (line 36) is outside the window around hunk 3, so it yields no sample.
    assert [len(s["history"]) for s in edits] == [1, 2]
    first = edits[0]
    assert first["history"][0] == {
        "path": "orders.bbj",
        "start_line": 1,
        "original": "x = 0\n",
        "updated": "total = 0\n",
    }
    assert "  x = x + i" in first["current_window"]
    assert "  total = total + i" in first["updated_window"]
    assert first["completion"] == first["updated_window"] + "\n<|endoftext|>"
    assert len(noops) == 1 and noops[0]["updated_window"] == noops[0]["current_window"]
    assert len(noops[0]["history"]) == 4


def test_the_noop_rate_is_honoured(repo: Path) -> None:
    assert not [s for s in next_edit_samples((repo,), settings(0.0)) if s["kind"] == "noop"]


def test_a_folder_that_is_not_a_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a git repository"):
        next_edit_samples((tmp_path,), settings())


class RecordingBackend:
    """Records the prompt the daemon's service sends, then ends the stream at once."""

    name = "recording"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self.prompts.append(prompt)
        stream = TextStream()
        stream.finish()
        return stream

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def info(self) -> BackendInfo:
        return BackendInfo("recording", "r", "", 8192, "qwen2.5-coder", "F16")


def _daemon_prompts(samples: list[dict], daemon_settings: DaemonNextEditSettings) -> list[str]:
    async def run() -> list[str]:
        backend = RecordingBackend()
        service = NextEditService(backend, daemon_settings, 8192)
        for sample in samples:
            hunks = tuple(
                Hunk(
                    h["path"],
                    h["start_line"],
                    Hunk.unblock(h["original"]),
                    Hunk.unblock(h["updated"]),
                )
                for h in sample["history"]
            )
            request = NextEditRequest(
                sample["path"], sample["text"], Position(*sample["cursor"]), hunks
            )
            await service.suggest(request)
        return backend.prompts

    return asyncio.run(run())


def test_sample_prompts_equal_what_the_daemon_builds_for_the_same_state(repo: Path) -> None:
    samples = next_edit_samples((repo,), settings())
    assert samples
    unlimited = DaemonNextEditSettings(max_prompt_tokens=0)
    assert _daemon_prompts(samples, unlimited) == [s["prompt"] for s in samples]


def test_history_is_trimmed_to_the_daemons_prompt_budget_as_the_daemon_trims_it(
    repo: Path,
) -> None:
    def count(text: str) -> int:
        return len(text.split())

    full = next_edit_samples((repo,), settings())
    longest = max(full, key=lambda s: len(s["history"]))
    assert len(longest["history"]) >= 2
    budget = count(longest["prompt"]) - 1  # too small for all of its history
    trimmed = next_edit_samples(
        (repo,), replace(settings(), count_tokens=count, prompt_budget=budget)
    )
    served = _daemon_prompts(trimmed, DaemonNextEditSettings(max_prompt_tokens=budget))
    assert served == [s["prompt"] for s in trimmed]
    assert {s["prompt"] for s in trimmed} != {s["prompt"] for s in full}
    assert all(count(s["prompt"]) <= budget for s in trimmed if s["history"])


def test_train_data_writes_next_edit_files(
    repo: Path, make_config: Callable, write_jsonl: Callable, chat_line: Callable
) -> None:
    chat = write_jsonl(
        "chat.jsonl", [chat_line(f"Print {i}", f"```bbj\nprint {i}\n```") for i in range(10)]
    )
    config = make_config(chatml=(chat,), next_edit_repos=(repo,), next_edit_noop_rate=1.0)
    directory = build_dataset(config).directory
    written = [
        json.loads(line)
        for name in ("next_edit_train.jsonl", "next_edit_val.jsonl", "next_edit_test.jsonl")
        for line in (directory / name).read_text().splitlines()
    ]
    assert sorted(s["kind"] for s in written) == ["edit", "edit", "noop"]


class ScriptedRunner:
    """Answers each prompt with the scripted completion for it."""

    kind = "scripted"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def fim(self, prompt: str, sampling: Sampling) -> Generated:
        return Generated(self.answers[prompt], 0.01, 5)


def test_eval_reports_exact_match_noop_accuracy_and_compile_rate(repo: Path) -> None:
    samples = next_edit_samples((repo,), settings())
    edits = [s for s in samples if s["kind"] == "edit"]
    noop = next(s for s in samples if s["kind"] == "noop")
    answers = {edits[0]["prompt"]: edits[0]["completion"]}  # right
    answers[edits[1]["prompt"]] = "BROKEN\n" + edits[1]["completion"]  # changes, breaks
    answers[noop["prompt"]] = noop["completion"]  # rightly leaves the window alone

    def check(code: str) -> bool:
        return "BROKEN" not in code

    summary, items = evaluate_next_edit(
        ScriptedRunner(answers), samples, check, 64, lambda *_: None
    )
    assert summary["samples"] == 3
    assert summary["exact_match"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["noop_accuracy"] == 1.0 and summary["noop_samples"] == 1
    assert summary["compile_checked"] == 2 and summary["compile_rate"] == 0.5
    assert [i["exact"] for i in items] == [True, False, True]
