"""The TUI's only ways to reach the daemon: HTTP through the typed client, or starting it.

Every function answers with a sentence for the user rather than raising: the screens show it.
"""

from __future__ import annotations

from daemon.client import DaemonClient, DaemonClientError, DaemonHTTPError, local_daemon
from daemon.instance import read_state
from daemon.launcher import DaemonLauncher, LaunchResult
from daemon.paths import AppPaths

CONSOLE_LOG = "serve-console.log"
LOOK_HERE = "the Logs screen shows what it is doing"


def daemon_running(paths: AppPaths) -> bool:
    return read_state(paths.state_file) is not None


async def reload_daemon(paths: AppPaths, model_name: str | None) -> str:
    """Make a running daemon serve the store's active model; a sentence saying how it went."""
    serves = f"serve {model_name}" if model_name else "notice the change"
    if not daemon_running(paths):
        return f"The daemon is not running; it will {serves} when it starts."
    url, token = local_daemon(paths)
    try:
        async with DaemonClient(url, token, timeout=300) as client:
            await client.reload()
            health = await client.health()
    except DaemonHTTPError as exc:
        return f"{exc.message} Fix the model, or activate another one."
    except DaemonClientError as exc:
        return f"Could not reach the daemon to reload it ({exc}); restart it to {serves}."
    if health.get("demo"):
        return (
            "The daemon runs in demo mode (--demo) and keeps serving the tiny demo model; "
            f"restart it without --demo to {serves}."
        )
    return f"The daemon now serves {model_name}." if model_name else "The daemon was reloaded."


async def start_daemon(paths: AppPaths, timeout_s: float = 90.0) -> LaunchResult:
    """Start ``bbj-coder serve`` in the background and wait until it answers /health."""
    if (state := read_state(paths.state_file)) is not None:
        return LaunchResult(True, f"bbj-coder is already running at {state.url}.")
    launcher = DaemonLauncher(paths, CONSOLE_LOG, look_here=LOOK_HERE)
    return await launcher.launch(timeout_s)
