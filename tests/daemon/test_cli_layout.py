"""The command line's shape: --help stays light, and `train` reaches the trainer's own parser."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT, daemon_env, run_cli

HEAVY = ("trainer", "torch", "transformers", "llama_cpp", "textual", "pygls", "lsp", "tui")


def test_help_imports_neither_the_trainer_nor_any_heavy_library(tmp_path) -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "from daemon.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=daemon_env(tmp_path),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = json.loads(done.stdout)
    assert "daemon.cli" in modules
    loaded = [m for m in modules if m.split(".")[0] in HEAVY]
    assert loaded == []


def test_train_actions_show_the_trainers_own_help(tmp_path) -> None:
    done = run_cli(tmp_path, "train", "data", "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: bbj-coder train data" in done.stdout
    assert "--max-seq-len" in done.stdout


def test_train_actions_report_a_bad_option_through_the_trainers_parser(tmp_path) -> None:
    done = run_cli(tmp_path, "train", "data", "--no-such-option")
    assert done.returncode == 2
    assert "unrecognized arguments: --no-such-option" in done.stderr


def test_lsp_options_reach_the_language_server(tmp_path) -> None:
    done = run_cli(tmp_path, "lsp", "--help")
    assert done.returncode == 0, done.stderr
    assert "--log-level" in done.stdout


def test_other_commands_still_refuse_unknown_options(tmp_path) -> None:
    done = run_cli(tmp_path, "status", "--bogus")
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr
