"""``bbj-coder`` command line: one small entry function per subcommand, heavy imports inside."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from daemon import __version__
from daemon.errors import BbjCoderError

Handler = Callable[[argparse.Namespace], int]


def _load(args: argparse.Namespace, flags: dict[str, object] | None = None):
    from daemon.config import load_config
    from daemon.paths import app_paths

    paths = app_paths()
    config_path = Path(args.config) if getattr(args, "config", None) else paths.config_file
    return paths, load_config(config_path, flags=flags or {})


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from daemon.server import ServeOptions, serve

    flags = {"server.host": args.host, "server.port": args.port, "model.path": args.model}
    paths, loaded = _load(args, flags)
    config_path = Path(args.config) if args.config else paths.config_file
    options = ServeOptions(
        config=loaded.config, paths=paths, demo=args.demo, config_path=config_path, flags=flags
    )
    return asyncio.run(serve(options))


def cmd_status(args: argparse.Namespace) -> int:
    import httpx

    from daemon.instance import read_state

    paths, _ = _load(args)
    state = read_state(paths.state_file)
    if state is None:
        print("bbj-coder is not running. Start it with `bbj-coder serve`.")
        return 3
    try:
        health = httpx.get(f"{state.url}/health", timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"bbj-coder (pid {state.pid}) at {state.url} does not answer: {exc}")
        return 1
    if args.json:
        print(json.dumps({"pid": state.pid, "url": state.url, **health}, indent=2))
        return 0
    model = health.get("model") or {}
    print(f"bbj-coder {health['version']} at {state.url} (pid {state.pid}): {health['status']}")
    print(f"  backend: {health['backend']['name']} — {health['backend']['reason']}")
    print(
        f"  model:   {model.get('name', '-')} {model.get('quant', '')} "
        f"ctx {model.get('context_length', '-')} fim {model.get('fim_format', '-')}"
    )
    if health.get("model_error"):
        print(f"  problem: {health['model_error']}")
    return 0 if health["status"] == "ok" else 1


def cmd_stop(args: argparse.Namespace) -> int:
    from daemon.server import stop_daemon

    paths, _ = _load(args)
    print(stop_daemon(paths))
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    from daemon.config import describe

    paths, loaded = _load(args)
    print(f"# config file: {paths.config_file}")
    print(describe(loaded))
    return 0


def cmd_config_token(args: argparse.Namespace) -> int:
    from daemon.paths import app_paths
    from daemon.security import load_or_create_token

    print(load_or_create_token(app_paths().token_file))
    return 0


def cmd_model_import(args: argparse.Namespace) -> int:
    from daemon.paths import app_paths
    from daemon.store import ModelStore

    store = ModelStore(app_paths().models_dir)
    entry = store.import_file(
        Path(args.file), name=args.name, activate=not args.no_activate, expected_sha256=args.sha256
    )
    print(
        f"Imported {entry.name} ({entry.size / 1e6:.1f} MB, {entry.quant}, sha256 "
        f"{entry.sha256[:12]}…){' and made it active' if not args.no_activate else ''}."
    )
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    from daemon.paths import app_paths
    from daemon.store import ModelStore

    manifest = ModelStore(app_paths().models_dir).load()
    if not manifest.models:
        print("No models installed. Import one with `bbj-coder model import FILE.gguf`.")
        return 0
    for entry in manifest.models:
        mark = "*" if entry.name == manifest.active else " "
        print(
            f"{mark} {entry.name:32} {entry.quant:8} {entry.size / 1e6:9.1f} MB  "
            f"ctx {entry.context_length:<6} fim {entry.fim_format or '-'}"
        )
    return 0


def cmd_model_push_ollama(args: argparse.Namespace) -> int:
    from daemon.backends.ollama import push_command

    return push_command(args.name, args.url, None)


def cmd_check(args: argparse.Namespace) -> int:
    from daemon.check.command import run_check_command

    return run_check_command(
        args.files, output_format=args.format, checker_mode=args.checker, bbjcpl=args.bbjcpl
    )


def cmd_doctor(args: argparse.Namespace) -> int:
    from daemon.doctor import run_doctor_command

    return run_doctor_command(args.json)


def cmd_tui(args: argparse.Namespace) -> int:
    from tui.app import run_tui

    return run_tui(args.catalogue, args.screen)


def cmd_lsp(args: argparse.Namespace) -> int:
    from lsp.server import run_lsp

    return run_lsp(args.lsp_args)


def cmd_train_data(args: argparse.Namespace) -> int:
    from trainer.data import data_command_from_args

    return data_command_from_args(args)


def cmd_train_run(args: argparse.Namespace) -> int:
    from trainer.train import run_command_from_args

    return run_command_from_args(args)


def cmd_train_export(args: argparse.Namespace) -> int:
    from trainer.export import export_command_from_args

    return export_command_from_args(args)


def cmd_train_eval(args: argparse.Namespace) -> int:
    from trainer.evaluate import eval_command_from_args

    return eval_command_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bbj-coder",
        description=(
            "Local AI coding assistant for BBj: a daemon serving checked completions and chat."
        ),
    )
    parser.add_argument("--version", action="version", version=f"bbj-coder {__version__}")
    parser.add_argument("--config", help="config file (default: the platform config dir)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the daemon")
    serve.add_argument("--model", help="store name or path to a .gguf file")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 11435)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="serve a tiny built-in demo model (output is not meaningful)",
    )
    serve.set_defaults(handler=cmd_serve)

    status = sub.add_parser("status", help="is the daemon running, and is it healthy?")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)
    sub.add_parser("stop", help="stop the running daemon").set_defaults(handler=cmd_stop)

    config = sub.add_parser("config", help="show the effective config or the API token")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    config_sub.add_parser(
        "show", help="effective config and where each value comes from"
    ).set_defaults(handler=cmd_config_show)
    config_sub.add_parser("token", help="print the bearer token").set_defaults(
        handler=cmd_config_token
    )

    model = sub.add_parser("model", help="manage installed models")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    model_import = model_sub.add_parser("import", help="import a .gguf file into the store")
    model_import.add_argument("file")
    model_import.add_argument("--name")
    model_import.add_argument("--sha256", help="refuse the file unless it has this sha256")
    model_import.add_argument("--no-activate", action="store_true")
    model_import.set_defaults(handler=cmd_model_import)
    model_sub.add_parser("list", help="list installed models").set_defaults(handler=cmd_model_list)
    push = model_sub.add_parser("push-ollama", help="register a model with a running Ollama")
    push.add_argument("name", help="store name or path to a .gguf file")
    push.add_argument("--url", help="Ollama's URL (default: backend.ollama_url)")
    push.set_defaults(handler=cmd_model_push_ollama)

    check = sub.add_parser("check", help="check BBj files with bbjcpl or the built-in checker")
    check.add_argument("files", nargs="+")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--checker", choices=["auto", "bbjcpl", "builtin"], default="auto")
    check.add_argument("--bbjcpl", help="path to bbjcpl")
    check.set_defaults(handler=cmd_check)

    doctor = sub.add_parser("doctor", help="run every health check and print the verdicts")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=cmd_doctor)

    tui = sub.add_parser("tui", help="health checks, models and logs in the terminal")
    tui.add_argument("--catalogue", help="model catalogue: a URL, a folder or a catalogue.json")
    tui.add_argument("--screen", choices=["health", "models", "logs"], default="health")
    tui.set_defaults(handler=cmd_tui)

    from daemon.bundle import add_bundle_parsers
    from daemon.continue_setup import add_continue_parsers

    add_continue_parsers(sub)
    add_bundle_parsers(sub)

    lsp = sub.add_parser("lsp", help="run the language server on stdio (for any LSP editor)")
    lsp.add_argument("lsp_args", nargs=argparse.REMAINDER, help="e.g. --log-level debug")
    lsp.set_defaults(handler=cmd_lsp)

    train = sub.add_parser("train", help="build training data and train the model")
    train_sub = train.add_subparsers(dest="train_command", required=True, metavar="ACTION")
    commands = (
        (
            "data",
            "build clean FIM, ChatML and pretraining data",
            "trainer.data",
            "add_data_arguments",
            cmd_train_data,
        ),
        (
            "run",
            "two-stage (Q)LoRA: continued pretraining, then instruction tuning",
            "trainer.train",
            "add_run_arguments",
            cmd_train_run,
        ),
        (
            "export",
            "merge, convert to GGUF, quantise; Modelfile, model card, manifest",
            "trainer.export",
            "add_export_arguments",
            cmd_train_export,
        ),
        (
            "eval",
            "compile@1, FIM exact match and edit similarity, base vs fine-tuned",
            "trainer.evaluate",
            "add_eval_arguments",
            cmd_train_eval,
        ),
    )
    for name, help_text, module, adder, handler in commands:
        command = train_sub.add_parser(name, help=help_text)
        _add_trainer_arguments(command, module, adder)
        command.set_defaults(handler=handler)
    return parser


def _add_trainer_arguments(parser: argparse.ArgumentParser, module: str, adder: str) -> None:
    import importlib

    try:
        add = getattr(importlib.import_module(module), adder)
    except ImportError:  # the trainer is optional at run time
        return
    add(parser)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
