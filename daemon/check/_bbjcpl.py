"""bbjcpl, the BBj compiler: finding it, running it safely and reading its stderr.

Facts (DESIGN.md §4): ``bbjcpl -N file`` validates without writing output and exits 0 even
when the program has errors; every error is one stderr line
``<path>: error at line <BASIC line> (<physical line>):<spaces><source line>`` and carries no
message text. Empty stderr means the program compiled.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

from daemon.check._builtin import BuiltinChecker
from daemon.check._types import CheckerConfigError, CheckResult, Diagnostic
from fim.language import SOURCE_EXTENSIONS

ERROR_MARKER = ": error at line "
TIMEOUT_PROBLEM = "bbjcpl did not finish within"
NOT_FOUND_HINT = "set check.bbjcpl or BBJ_HOME"
_LOCATION = re.compile(r"\s*(\d+)\s*\((\d+)\)\s*:(.*)\Z", re.DOTALL)
_GUESSED_LINE = re.compile(r"\bline\s+(\d+)|\((\d+)\)", re.IGNORECASE)
# The JVM announces option environment variables on stderr; that is not a compile error.
_JVM_NOTICE = re.compile(
    r"^(?:NOTE: )?Picked up (?:_JAVA_OPTIONS|JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS)"
)
_PROGRAM_NAMES = ("bbjcpl", "bbjcpl.exe")
STDERR_LIMIT = 1024 * 1024  # bytes of stderr kept per run; the rest is read and dropped
MAX_DIAGNOSTICS = 200
log = logging.getLogger("bbj_coder.check")


# ------------------------------------------------------------------------------- discovery
def _program_in(directory: Path) -> Path | None:
    for folder in (directory / "bin", directory):
        for name in _PROGRAM_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def _configured_program(configured: str) -> Path | None:
    path = Path(configured).expanduser()
    if path.is_dir():
        return _program_in(path)
    if path.exists():
        return path
    if os.sep not in configured and "/" not in configured:
        found = shutil.which(configured)
        return Path(found) if found else None
    return None


def find_bbjcpl(configured: str | None = None) -> Path | None:
    """Find bbjcpl: the configured value, then ``$BBJ_HOME/bin/bbjcpl[.exe]``, then ``PATH``.

    A configured value may be the program, the BBj installation folder or a bare command
    name. Returns None when bbjcpl is nowhere to be found.
    """
    if configured and configured.strip():
        found = _configured_program(configured.strip())
        if found is not None:
            return found
    bbj_home = os.environ.get("BBJ_HOME", "").strip()
    if bbj_home:
        for name in _PROGRAM_NAMES:
            candidate = Path(bbj_home).expanduser() / "bin" / name
            if candidate.is_file():
                return candidate
    on_path = shutil.which("bbjcpl")
    return Path(on_path) if on_path else None


# ------------------------------------------------------------------------------ parsing
def parse_error_line(text: str) -> Diagnostic | None:
    """Parse one ``<path>: error at line <n> (<physical>):  <source>`` line (None if not one).

    Paths may contain colons (``C:\\work\\x.bbj``) and a source line may itself contain the
    marker text, so every occurrence is tried and the first one followed by a valid location
    wins.
    """
    start = text.find(ERROR_MARKER)
    while start >= 0:
        location = _LOCATION.match(text, start + len(ERROR_MARKER))
        if location is not None:
            return _diagnostic_from(location)
        start = text.find(ERROR_MARKER, start + 1)
    return None


def _diagnostic_from(location: re.Match[str]) -> Diagnostic:
    basic_line, physical_line = int(location.group(1)), int(location.group(2))
    source = location.group(3).strip()
    message = (
        f"bbjcpl: syntax error in `{source}`"
        if source
        else f"bbjcpl: syntax error on line {physical_line}"
    )
    return Diagnostic(physical_line, message, basic_line=basic_line, source_line=source or None)


def _guess_line(text: str) -> int:
    match = _GUESSED_LINE.search(text)
    if match is None:
        return 0
    return int(match.group(1) or match.group(2))


def parse_bbjcpl_stderr(stderr: str) -> tuple[tuple[Diagnostic, ...], str | None]:
    """Turn bbjcpl's stderr into diagnostics plus a tool error (when bbjcpl itself failed).

    Lines that are not in the error format are kept verbatim as diagnostics, never dropped.
    When nothing on stderr is a program error, bbjcpl failed as a tool (a fatal error, a Java
    exception): the first such line becomes the tool error.
    """
    diagnostics: list[Diagnostic] = []
    unparsed: list[str] = []
    for raw in stderr.splitlines():
        text = raw.rstrip()
        if not text.strip() or _JVM_NOTICE.match(text.strip()):
            continue
        parsed = parse_error_line(text)
        if parsed is not None:
            diagnostics.append(parsed)
        else:
            unparsed.append(text.strip())
    tool_error = f"bbjcpl failed: {unparsed[0]}" if unparsed and not diagnostics else None
    diagnostics.extend(Diagnostic(_guess_line(t), f"bbjcpl: {t}") for t in unparsed)
    if len(diagnostics) > MAX_DIAGNOSTICS:
        hidden = len(diagnostics) - MAX_DIAGNOSTICS
        diagnostics = diagnostics[:MAX_DIAGNOSTICS]
        diagnostics.append(Diagnostic(0, f"bbjcpl: {hidden} more problems not shown"))
    return tuple(diagnostics), tool_error


# ------------------------------------------------------------------------------ running
def _new_process_group() -> dict[str, Any]:
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def _kill_tree(process: asyncio.subprocess.Process) -> None:
    """Kill bbjcpl and everything it started (it runs in its own session on POSIX), even
    after bbjcpl itself exited: a child it backgrounded is still in its process group."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Wait until bbjcpl itself exits (``process.wait()`` also waits for its pipes to close,
    which a child it left behind can hold open for ever)."""
    while process.returncode is None:
        await asyncio.sleep(0.02)


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Read ``stream`` to its end keeping at most ``limit`` bytes; (kept, truncated)."""
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(65536):
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        truncated = truncated or len(chunk) > room
    return bytes(kept), truncated


class BbjcplChecker:
    """Checks programs with the real BBj compiler, run as ``bbjcpl -N <temp file>``.

    Each run gets a private temp directory (mode 0700), never goes through a shell, is killed
    with its whole process tree after ``timeout_s``, and waits for one of ``max_concurrency``
    slots. Results are cached by content hash; tool failures are never cached. Its stderr is
    read up to :data:`STDERR_LIMIT` bytes and at most :data:`MAX_DIAGNOSTICS` are reported.

    A run that times out trips a circuit breaker: for ``retry_s`` seconds the built-in checker
    answers instead (its results name it), then bbjcpl is tried again.
    """

    name = "bbjcpl"

    def __init__(
        self,
        executable: Path | None,
        *,
        timeout_s: float = 10.0,
        max_concurrency: int = 2,
        cache_size: int = 256,
        retry_s: float = 60.0,
    ) -> None:
        if timeout_s <= 0:
            raise CheckerConfigError(f"the bbjcpl timeout must be positive, not {timeout_s}")
        if max_concurrency < 1:
            raise CheckerConfigError(
                f"bbjcpl needs at least one concurrent run, not {max_concurrency}"
            )
        self.executable = executable
        self.timeout_s = timeout_s
        self.max_concurrency = max_concurrency
        self.cache_size = max(0, cache_size)
        self.runs = 0
        self.retry_s = max(0.0, retry_s)
        self._resting_until = 0.0
        self._rest_reason: str | None = None
        self._fallback = BuiltinChecker(note="bbjcpl is resting after a timeout")
        self._cache: OrderedDict[str, CheckResult] = OrderedDict()
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, code: str, filename: str | None = None) -> CheckResult:
        """Check ``code`` with bbjcpl; a broken tool gives ``tool_error``, never an exception."""
        started = time.perf_counter()
        problem = self.executable_problem()
        if problem is not None:
            return self._failure(problem, started)
        key = _cache_key(code, filename)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        if self.resting() is not None:
            return await self._fallback.check(code, filename)
        async with self._slot():
            stderr, problem = await self._run(code, filename)
        if problem is not None:
            if problem.startswith(TIMEOUT_PROBLEM):
                self._rest(problem)
            return self._failure(problem, started)
        self._rest_reason = None
        diagnostics, tool_error = parse_bbjcpl_stderr(stderr)
        result = CheckResult(
            ok=not diagnostics and tool_error is None,
            diagnostics=diagnostics,
            checker=self.name,
            duration_s=time.perf_counter() - started,
            tool_error=tool_error,
        )
        if tool_error is None:
            self._remember(key, result)
        return result

    def resting(self) -> str | None:
        """Why bbjcpl is resting (the built-in checker answers meanwhile); None when in use."""
        if self._rest_reason is None or time.monotonic() >= self._resting_until:
            return None
        return self._rest_reason

    def retry_in_s(self) -> float:
        return max(0.0, self._resting_until - time.monotonic())

    def _rest(self, problem: str) -> None:
        self._rest_reason = problem
        self._resting_until = time.monotonic() + self.retry_s
        log.warning(
            "%s; the built-in checker serves for the next %g s, then bbjcpl is tried again",
            problem,
            self.retry_s,
        )

    def executable_problem(self) -> str | None:
        """Why bbjcpl cannot be run, in words (None when it looks runnable)."""
        path = self.executable
        if path is None:
            return f"bbjcpl was not found: {NOT_FOUND_HINT}"
        if not path.exists():
            return f"bbjcpl was not found at {path}"
        if path.is_dir():
            return f"{path} is a folder, not the bbjcpl program"
        if os.name == "posix" and not os.access(path, os.X_OK):
            return f"bbjcpl at {path} is not executable (make it executable with chmod +x)"
        return None

    def _failure(self, problem: str, started: float) -> CheckResult:
        return CheckResult(
            ok=False,
            diagnostics=(),
            checker=self.name,
            duration_s=time.perf_counter() - started,
            tool_error=problem,
        )

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            slot = self._slots[loop] = asyncio.Semaphore(self.max_concurrency)
        return slot

    def _remember(self, key: str, result: CheckResult) -> None:
        if self.cache_size == 0:
            return
        self._cache[key] = result
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def _run(self, code: str, filename: str | None) -> tuple[str, str | None]:
        """Run bbjcpl on ``code`` in a private temp dir; return (stderr, tool problem)."""
        workdir = Path(tempfile.mkdtemp(prefix="bbj-coder-check-"))
        try:
            source = workdir / _temp_file_name(filename)
            source.write_bytes(code.encode("utf-8", errors="replace"))
            return await self._invoke(source)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _invoke(self, source: Path) -> tuple[str, str | None]:
        program = str(self.executable)
        self.runs += 1
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                "-N",
                str(source),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                cwd=str(source.parent),
                **_new_process_group(),
            )
        except FileNotFoundError:
            return "", f"bbjcpl was not found at {program}"
        except PermissionError:
            return "", f"bbjcpl at {program} is not executable (make it executable with chmod +x)"
        except OSError as error:
            return "", f"bbjcpl at {program} could not be started: {error.strerror or error}"
        return await self._collect(process)

    async def _collect(self, process: asyncio.subprocess.Process) -> tuple[str, str | None]:
        assert process.stderr is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        reading = asyncio.ensure_future(_read_capped(process.stderr, STDERR_LIMIT))
        try:
            await asyncio.wait_for(_exited(process), self.timeout_s)
            _kill_tree(process)  # a child it left behind would hold stderr open
            data, truncated = await asyncio.wait_for(reading, max(deadline - loop.time(), 0.5))
        except asyncio.TimeoutError:
            _kill_tree(process)
            reading.cancel()
            await process.wait()
            return "", f"{TIMEOUT_PROBLEM} {self.timeout_s:g} s and was stopped"
        except asyncio.CancelledError:
            _kill_tree(process)
            reading.cancel()
            raise
        text = data.decode("utf-8", errors="replace")
        if truncated:
            text = text.rsplit("\n", 1)[0]  # the last line may be cut in the middle
        if process.returncode not in (0, None) and not text.strip():
            return "", f"bbjcpl exited with status {process.returncode} and printed no errors"
        return text, None


def _temp_file_name(filename: str | None) -> str:
    suffix = Path(filename).suffix.lower() if filename else ""
    return "program" + (suffix if suffix in SOURCE_EXTENSIONS else ".bbj")


def _cache_key(code: str, filename: str | None) -> str:
    digest = hashlib.sha256(code.encode("utf-8", errors="surrogatepass"))
    digest.update(b"\0" + _temp_file_name(filename).encode())
    return digest.hexdigest()
