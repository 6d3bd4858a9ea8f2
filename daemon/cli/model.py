"""``bbj-coder model import|list|push-ollama``: the model store from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_model_import(args: argparse.Namespace) -> int:
    from daemon.models.store import ModelStore
    from daemon.paths import app_paths

    store = ModelStore(app_paths().models_dir)
    entry = store.import_file(
        Path(args.file),
        name=args.name,
        activate=not args.no_activate,
        expected_sha256=args.sha256,
        replace=args.replace,
    )
    print(
        f"Imported {entry.name} ({entry.size / 1e6:.1f} MB, {entry.quant}, sha256 "
        f"{entry.sha256[:12]}…){' and made it active' if not args.no_activate else ''}."
    )
    if not args.no_activate and (note := demo_note()):
        print(note)
    return 0


def demo_note() -> str | None:
    """A warning when the running daemon is pinned to the demo model (``serve --demo``)."""
    from daemon.client import loopback_client
    from daemon.instance import read_state
    from daemon.paths import app_paths

    state = read_state(app_paths().state_file)
    if state is None:
        return None
    try:
        with loopback_client(state.url, timeout=3) as http:
            demo = http.get("/health").json().get("demo")
    except Exception:  # only a hint: the import itself succeeded
        return None
    if not demo:
        return None
    return (
        f"Note: the daemon at {state.url} runs in demo mode (--demo) and keeps serving the "
        "tiny demo model; restart it without --demo (`bbj-coder stop`, then `bbj-coder serve`) "
        "to serve the model just imported."
    )


def cmd_model_list(args: argparse.Namespace) -> int:
    from daemon.models.store import ModelStore
    from daemon.paths import app_paths

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
    from daemon.backends.ollama_push import push_command

    return push_command(args.name, args.url, None)


def add_parsers(sub: Any) -> None:
    model = sub.add_parser("model", help="manage installed models")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    model_import = model_sub.add_parser("import", help="import a .gguf file into the store")
    model_import.add_argument("file")
    model_import.add_argument("--name")
    model_import.add_argument("--sha256", help="refuse the file unless it has this sha256")
    model_import.add_argument("--no-activate", action="store_true")
    model_import.add_argument(
        "--replace",
        action="store_true",
        help="replace an installed model of the same name (refused without this flag)",
    )
    model_import.set_defaults(handler=cmd_model_import)
    model_sub.add_parser("list", help="list installed models").set_defaults(handler=cmd_model_list)
    push = model_sub.add_parser("push-ollama", help="register a model with a running Ollama")
    push.add_argument("name", help="store name or path to a .gguf file")
    push.add_argument("--url", help="Ollama's URL (default: backend.ollama_url)")
    push.set_defaults(handler=cmd_model_push_ollama)
