"""``bbj-coder serve``, ``status`` and ``stop``: the daemon's life cycle."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from daemon.cli._common import config_path, load

DETACH_TIMEOUT_S = 180.0
"""How long ``serve --detach`` waits for the daemon to answer (a large model loads slowly)."""
CONSOLE_LOG = "serve-console.log"


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from daemon.server.lifecycle import ServeOptions, serve

    flags = {"server.host": args.host, "server.port": args.port, "model.path": args.model}
    paths, loaded = load(args, flags)
    if args.detach:
        return _serve_detached(args, paths)
    options = ServeOptions(
        config=loaded.config,
        paths=paths,
        demo=args.demo,
        config_path=config_path(args, paths),
        flags=flags,
    )
    return asyncio.run(serve(options))


def _serve_detached(args: argparse.Namespace, paths: Any) -> int:
    """Start ``serve`` (same flags) in the background and return once it answers."""
    import asyncio

    from daemon.instance import read_state
    from daemon.launcher import DaemonLauncher

    if (state := read_state(paths.state_file)) is not None:
        print(f"bbj-coder is already running at {state.url} (pid {state.pid}).")
        return 0
    argv = ["--config", str(args.config)] if getattr(args, "config", None) else []
    argv.append("serve")
    for flag, value in (("--model", args.model), ("--host", args.host), ("--port", args.port)):
        if value is not None:
            argv += [flag, str(value)]
    if args.demo:
        argv.append("--demo")
    launcher = DaemonLauncher(paths, CONSOLE_LOG)
    result = asyncio.run(launcher.launch(DETACH_TIMEOUT_S, argv=argv))
    if not result.started:
        print(f"bbj-coder: {result.sentence}", file=sys.stderr)
        return 1
    print(
        f"{result.sentence} Its output goes to {launcher.log_file}; stop it with `bbj-coder stop`."
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from daemon.client import loopback_client
    from daemon.instance import read_state

    paths, _ = load(args)
    state = read_state(paths.state_file)
    if state is None:
        if args.json:
            print(json.dumps({"running": False, "state_file": str(paths.state_file)}, indent=2))
        else:
            print("bbj-coder is not running. Start it with `bbj-coder serve`.")
        return 3
    try:
        with loopback_client(state.url, timeout=5) as http:
            health = http.get("/health").json()
    except ValueError as exc:
        health, problem = None, f"its /health is not JSON ({exc})"
    except Exception as exc:  # httpx errors: imported lazily, so caught by their base here
        health, problem = None, f"{type(exc).__name__}: {exc}"
    if health is None:
        if args.json:
            print(
                json.dumps(
                    {
                        "running": True,
                        "answering": False,
                        "pid": state.pid,
                        "url": state.url,
                        "error": problem,
                    },
                    indent=2,
                )
            )
        else:
            print(f"bbj-coder (pid {state.pid}) at {state.url} does not answer: {problem}")
        return 1
    if args.json:
        print(
            json.dumps(
                {"running": True, "answering": True, "pid": state.pid, "url": state.url, **health},
                indent=2,
            )
        )
        return 0 if health.get("status") == "ok" else 1
    model = health.get("model") or {}
    print(f"bbj-coder {health['version']} at {state.url} (pid {state.pid}): {health['status']}")
    if health.get("demo"):
        print(
            "  mode:    DEMO: a tiny built-in model with meaningless output; models imported or "
            "activated in the store are not served until it is restarted without --demo"
        )
    print(f"  backend: {health['backend']['name']} — {health['backend']['reason']}")
    print(
        f"  model:   {model.get('name', '-')} {model.get('quant', '')} "
        f"ctx {model.get('context_length', '-')} fim {model.get('fim_format', '-')}"
    )
    if health.get("model_error"):
        print(f"  problem: {health['model_error']}")
    return 0 if health["status"] == "ok" else 1


def cmd_stop(args: argparse.Namespace) -> int:
    from daemon.server.lifecycle import stop_daemon

    paths, _ = load(args)
    print(stop_daemon(paths))
    return 0


def add_parsers(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the daemon")
    serve.add_argument("--model", help="store name or path to a .gguf file")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 11435)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="serve a tiny built-in demo model (output is not meaningful)",
    )
    serve.add_argument(
        "--detach",
        action="store_true",
        help="start the daemon in the background and return once it answers",
    )
    serve.set_defaults(handler=cmd_serve)

    status = sub.add_parser("status", help="is the daemon running, and is it healthy?")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)
    sub.add_parser("stop", help="stop the running daemon").set_defaults(handler=cmd_stop)
