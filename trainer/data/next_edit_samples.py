"""Next-edit training samples from the git history of BBj repositories.

Each commit that changes a BBj file is a trajectory: its hunks (top to bottom: git does not
record the order they were typed in) are applied one at a time. With the first ``t`` hunks
applied, those hunks are the edit history, the cursor sits on the last line they touched, and
the target is the window with hunk ``t`` applied too, when hunk ``t`` lies inside that window.
The state after all hunks, with all of them as history, is a "no edit needed" sample (at rate
``noop_rate``). Prompts come from :func:`fim.next_edit.build_prompt`, the daemon's own builder.

A record is ``{"prompt", "completion"}`` (TRL's prompt/completion layout) plus the state that
produced it (``path``, ``text``, ``cursor``, ``history``, ``window``, ``updated_window``,
``kind`` = edit | noop, ``commit``) so evaluation and the identity test can rebuild it.
"""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fim.next_edit import (
    SWEEP_QWEN,
    Hunk,
    NextEditFormat,
    NextEditPrompt,
    NextEditState,
    Position,
    build_prompt,
    fit_prompt,
)
from trainer.data.keys import stable_unit
from trainer.data.records import DataError

if TYPE_CHECKING:
    from trainer.data.config import DataConfig

MAX_HISTORY = 8


@dataclass(frozen=True)
class NextEditSettings:
    extensions: tuple[str, ...]
    noop_rate: float = 0.3
    max_commits: int = 5000
    max_file_bytes: int = 1_000_000
    seed: int = 0
    fmt: NextEditFormat = SWEEP_QWEN
    count_tokens: Callable[[str], int] | None = None
    prompt_budget: int = 0
    """The daemon's next-edit prompt budget: with a token counter, history is trimmed to it
    exactly as the daemon trims a request (0: no trimming)."""


def _prompt(state: NextEditState, settings: NextEditSettings) -> NextEditPrompt:
    if settings.count_tokens is None or settings.prompt_budget <= 0:
        return build_prompt(settings.fmt, state)
    return fit_prompt(settings.fmt, state, settings.count_tokens, settings.prompt_budget)


@dataclass(frozen=True)
class FileChange:
    commit: str
    path: str
    before: list[str]
    after: list[str]


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, check=True, timeout=120
        )
    except FileNotFoundError as exc:
        raise DataError("git is not installed; it is needed to read next-edit history.") from exc
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode("utf-8", "replace").strip()
        raise DataError(f"git could not read {repo}: {message}") from exc
    return done.stdout.decode("utf-8", "replace")


def file_changes(repo: Path, settings: NextEditSettings) -> Iterator[FileChange]:
    """Every BBj file a (non-merge, non-root) commit modified, oldest commit first."""
    log = _git(
        repo, "log", "--reverse", "--no-merges", "--format=%H %P", f"-n{settings.max_commits}"
    )
    for line in log.splitlines():
        parts = line.split()
        if len(parts) != 2:  # the root commit has no parent to diff against
            continue
        commit, parent = parts
        names = _git(repo, "diff", "--name-only", "--diff-filter=M", parent, commit)
        for path in names.splitlines():
            if not path.lower().endswith(tuple(e.lower() for e in settings.extensions)):
                continue
            before = _git(repo, "show", f"{parent}:{path}")
            after = _git(repo, "show", f"{commit}:{path}")
            if max(len(before), len(after)) > settings.max_file_bytes:
                continue
            yield FileChange(commit, path, before.split("\n"), after.split("\n"))


def _opcodes(before: list[str], after: list[str]) -> list[tuple[int, int, int, int]]:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _state(change: FileChange, ops: list[tuple[int, int, int, int]], applied: int) -> list[str]:
    """The file with the first ``applied`` hunks done (between hunks both sides agree)."""
    if applied == 0:
        return list(change.before)
    _, i2, _, j2 = ops[applied - 1]
    return change.after[:j2] + change.before[i2:]


def _cursor_line(ops: list[tuple[int, int, int, int]], applied: int, lines: int) -> int:
    _, _, j1, j2 = ops[applied - 1]
    return min(max(j2 - 1, j1), lines - 1)


def samples_of_change(change: FileChange, settings: NextEditSettings) -> list[dict]:
    fmt = settings.fmt
    ops = _opcodes(change.before, change.after)
    hunks = [
        Hunk(change.path, j1, tuple(change.before[i1:i2]), tuple(change.after[j1:j2]))
        for i1, i2, j1, j2 in ops
    ]
    samples = []
    for target in range(1, len(ops)):
        state = _state(change, ops, target)
        cursor = Position(_cursor_line(ops, target, len(state)), 0)
        history = tuple(hunks[max(0, target - MAX_HISTORY) : target])
        current = NextEditState(change.path, "\n".join(state), cursor, history)
        built = _prompt(current, settings)
        window = built.window
        i1, i2, _, _ = ops[target]
        _, last_i2, _, last_j2 = ops[target - 1]
        start = last_j2 + (i1 - last_i2)  # hunk ``target`` in the current state's lines
        end = start + (i2 - i1)
        if start < window.start or end > window.end or (i1 == i2 and start == window.end):
            continue
        after = _state(change, ops, target + 1)
        grown = len(after) - len(state)
        updated = "\n".join(after[window.start : window.end + grown])
        samples.append(_record(change, current, built, updated, "edit", fmt))
    noop = stable_unit(settings.seed, "next-edit-noop", change.commit + change.path)
    if ops and noop < settings.noop_rate:
        cursor = Position(_cursor_line(ops, len(ops), len(change.after)), 0)
        history = tuple(hunks[-MAX_HISTORY:])
        final = NextEditState(change.path, "\n".join(change.after), cursor, history)
        built = _prompt(final, settings)
        samples.append(_record(change, final, built, built.window.text, "noop", fmt))
    return samples


def _record(
    change: FileChange,
    state: NextEditState,
    built: NextEditPrompt,
    updated: str,
    kind: str,
    fmt: NextEditFormat,
) -> dict:
    return {
        "prompt": built.prompt,
        "completion": fmt.target(updated),
        "kind": kind,
        "commit": change.commit,
        "path": change.path,
        "text": state.text,
        "cursor": [state.cursor.line, state.cursor.character],
        "history": [
            {
                "path": h.path,
                "start_line": h.start_line,
                "original": Hunk.block(h.original),
                "updated": Hunk.block(h.updated),
            }
            for h in state.hunks
        ],
        "window": [built.window.start, built.window.end],
        "current_window": built.window.text,
        "updated_window": updated,
    }


def next_edit_samples(repos: tuple[Path, ...], settings: NextEditSettings) -> list[dict]:
    samples: list[dict] = []
    for repo in repos:
        if not (repo / ".git").exists():
            raise DataError(
                f"{repo} is not a git repository (no .git); next_edit_repos lists repositories."
            )
        for change in file_changes(repo, settings):
            samples.extend(samples_of_change(change, settings))
    return samples


def next_edit_outputs(
    config: DataConfig, count_tokens: Callable[[str], int] | None = None
) -> dict[str, list[dict]]:
    """``next_edit_{train,val,test}.jsonl`` for ``train data`` (files are held out whole, by
    path: ``test_fraction`` for the eval table, ``val_fraction`` for checkpoint choice)."""
    settings = NextEditSettings(
        extensions=config.extensions,
        noop_rate=config.next_edit_noop_rate,
        max_file_bytes=config.max_file_bytes,
        seed=config.seed,
        count_tokens=count_tokens,
        prompt_budget=serve_next_edit_budget(config),
    )
    splits: dict[str, list[dict]] = {"train": [], "val": [], "test": []}
    for sample in next_edit_samples(config.next_edit_repos, settings):
        unit = stable_unit(config.seed, "next-edit-split", sample["path"])
        if unit < config.test_fraction:
            splits["test"].append(sample)
        elif unit < config.test_fraction + config.val_fraction:
            splits["val"].append(sample)
        else:
            splits["train"].append(sample)
    return {f"next_edit_{name}.jsonl": rows for name, rows in splits.items()}


def serve_next_edit_budget(config: DataConfig) -> int:
    """The prompt budget the daemon gives a next-edit request, from the data config's mirror
    of its settings."""
    from daemon.config import NextEditSettings as ServeNextEdit
    from daemon.services.fim_prompt import fim_max_tokens, fim_prompt_budget

    max_tokens = fim_max_tokens(None, ServeNextEdit().max_tokens, config.serve_n_ctx)
    return fim_prompt_budget(
        config.serve_n_ctx, max_tokens, config.serve_next_edit_max_prompt_tokens
    )
