"""The built-in checker on real BBj code: false alarms, planted errors, speed, gate cost.

    .venv/bin/python tests/bench/checker.py [--corpus ../shared/corpus/bbj] [--per-class 100]

Prints, for the corpus of real BBj-Plugins files (skipped when absent):
1. throughput of a whole-corpus check in lines/s, single-threaded;
2. every file the checker flags, with its first diagnostic and the verdict kept below
   (checker wrong, or file genuinely broken and why), and the files that are not source;
3. the detection rate per class of planted error, counted only when reported on the right line;
4. the FIM gate's cost per request in a small and a ~150 KB file (cursor inside a method),
   side by side with checking both whole programs as the gate used to;
5. how long the event loop is held while checks run (asyncio slow-callback logging at 5 ms
   plus a 1 ms heartbeat), for ``/v1/bbj/check``, the gate and the chat's verify.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checker_mutations import BLOCK_AND_LEXICAL, CLASSES, plant  # noqa: E402

from daemon.check import BuiltinChecker  # noqa: E402
from daemon.check._gate import compare  # noqa: E402
from tests.check.real_corpus import CORPUS, VERDICTS, corpus_files  # noqa: E402

CHAT_ANSWER_CHARS = 40_000
"""Chat answers are bounded by the model's output tokens: larger ones are not verified."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------ 1 + 2
def throughput(files: dict[str, str]) -> None:
    lines = sum(code.count("\n") + 1 for code in files.values())
    runs = []
    for _ in range(3):
        checker = BuiltinChecker()
        started = time.perf_counter()
        for code in files.values():
            checker.check_text(code)
        runs.append(time.perf_counter() - started)
    best = min(runs)
    print(f"\n1. throughput: {len(files)} files, {lines:,} lines")
    print(f"   best of 3: {best:.3f} s = {lines / best:,.0f} lines/s (target 50,000: ", end="")
    print(f"{lines / best / 50_000:.1f}x); runs {', '.join(f'{r:.3f}' for r in runs)} s")


def flagged(files: dict[str, str]) -> dict[str, str]:
    """Print every flagged file with its verdict; return the files that pass."""
    checker = BuiltinChecker()
    passing: dict[str, str] = {}
    wrong = unreviewed = broken = 0
    print("\n2. flagged files")
    for path, code in files.items():
        result = checker.check_text(code)
        if result.skipped:
            print(f"   not checked  {path}: {result.skipped}")
            continue
        if result.ok:
            passing[path] = code
            continue
        first = result.diagnostics[0]
        verdict, reason = VERDICTS.get(path, ("UNREVIEWED", "no verdict recorded yet"))
        wrong += verdict == "checker wrong"
        unreviewed += verdict == "UNREVIEWED"
        broken += verdict == "file genuinely broken"
        print(f"   flagged      {path}\n                {first.describe()}")
        print(f"                verdict: {verdict}: {reason}")
    total = len(files) - len(passing)
    print(
        f"   {total} of {len(files)} files not passed: {broken} genuinely broken, "
        f"{wrong} checker wrong, {unreviewed} unreviewed"
    )
    return passing


# ---------------------------------------------------------------------------------- 3
def planted(passing: dict[str, str], per_class: int) -> None:
    checker = BuiltinChecker()
    mutations = plant(passing, per_class)
    seen: Counter[str] = Counter()
    on_line: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    misses: dict[str, list[str]] = {}
    for mutation in mutations:
        result = checker.check_text(mutation.code)
        seen[mutation.kind] += 1
        anywhere[mutation.kind] += not result.ok
        if any(d.line == mutation.line for d in result.diagnostics):
            on_line[mutation.kind] += 1
        else:
            got = result.diagnostics[0].describe() if result.diagnostics else "passed"
            misses.setdefault(mutation.kind, []).append(f"{mutation.what} -> {got}")
    print(f"\n3. planted errors: {len(mutations)} mutations of {len(passing)} passing files")
    for kind in CLASSES:
        n = seen[kind]
        if not n:
            continue
        target = 0.95 if kind in BLOCK_AND_LEXICAL else 0.90
        rate = on_line[kind] / n
        print(
            f"   {kind:20} {n:4}  right line {rate:6.1%}  anywhere {anywhere[kind] / n:6.1%}"
            f"  (target {target:.0%}{'' if rate >= target else ', MISSED'})"
        )
        for miss in misses.get(kind, [])[:3]:
            print(f"      missed: {miss[:150]}")


# ---------------------------------------------------------------------------------- 4
def _gate_requests(code: str, count: int, seed: int) -> list[tuple[str, str, str]]:
    """FIM requests with the cursor at a statement inside a method: the completion is the
    rest of that line (what a model should write), the suffix what follows."""
    lines = code.split("\n")
    inside: list[int] = []
    depth = 0
    for index, line in enumerate(lines):
        word = line.strip().split(" ", 1)[0].lower()
        if word == "method":
            depth = 1
        elif word == "methodend":
            depth = 0
        elif depth and word and word not in ("rem", "method") and not line.strip().startswith(":"):
            inside.append(index)
    rng = random.Random(seed)
    requests = []
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for index in rng.sample(inside, min(count, len(inside))):
        line = lines[index]
        cut = offsets[index] + len(line) - len(line.lstrip()) + rng.randrange(len(line.strip()))
        end = offsets[index + 1]
        requests.append((code[:cut], code[cut:end], code[end:]))
    return requests


def _big_file(passing: dict[str, str], size: int) -> str:
    classes = [code for code in passing.values() if "methodend" in code.lower()]
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.extend(classes)
    text = ""
    for part in parts:
        if len(text) >= size:
            break
        text += part.rstrip("\n") + "\n\n"
    return text


def gate_cost(passing: dict[str, str], count: int = 200) -> None:
    small = max(
        (c for c in passing.values() if 4_000 < len(c) < 8_000),
        key=lambda c: c.lower().count("methodend"),
    )
    print("\n4. FIM gate cost per request (1 candidate), cursor inside a method")
    for label, code in (("small", small), ("large", _big_file(passing, 150_000))):
        checker = BuiltinChecker()
        requests = _gate_requests(code, count, seed=len(code))
        unit_times, whole_times, scopes = [], [], Counter()
        for prefix, completion, suffix in requests:
            started = time.perf_counter()
            verdict = checker.judge_completion(prefix, completion, suffix)
            unit_times.append(time.perf_counter() - started)
            scopes[verdict.scope] += 1
            started = time.perf_counter()
            compare(
                checker.check_text(prefix + suffix),
                checker.check_text(prefix + completion + suffix),
            )
            whole_times.append(time.perf_counter() - started)
        p95, whole95 = pct(unit_times, 0.95) * 1000, pct(whole_times, 0.95) * 1000
        print(
            f"   {label:5} {len(code) / 1000:6.1f} KB {code.count(chr(10)):5} lines: "
            f"p50 {statistics.median(unit_times) * 1000:6.2f} ms  p95 {p95:6.2f} ms  "
            f"| whole programs p95 {whole95:7.2f} ms  ratio {whole95 / p95:5.1f}x  "
            f"| scope {dict(scopes)}"
        )


# ---------------------------------------------------------------------------------- 5
class _SlowCallbacks(logging.Handler):
    """Collects asyncio's debug-mode "Executing <handle> took N seconds" reports."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("Executing") and record.args:
            handle, seconds = record.args  # type: ignore[misc]
            where = re.search(r"coro=<([\w.]+)\(\)", str(handle))
            self.found.append((float(seconds), where.group(1) if where else str(handle)[:60]))


class _OnLoopChecker:
    """What the daemon did before: the parse runs inside the coroutine, on the loop."""

    name = "builtin"

    def __init__(self) -> None:
        self.inner = BuiltinChecker()

    async def check(self, code: str, filename: str | None = None):  # type: ignore[no-untyped-def]
        return self.inner.check_text(code)


async def _heartbeat(lags: list[float]) -> None:
    while True:
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - started - 0.001)


def _serve_and_measure(
    codes: list[str], requests: list[tuple[str, str, str]], on_loop: bool
) -> tuple[list[tuple[float, str]], list[float]]:
    """A real daemon app under uvicorn on its own loop thread; this thread is the client."""
    import tempfile
    import threading

    import httpx
    import uvicorn

    from daemon.check import CompletionGate
    from daemon.config import Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.runtime import Runtime
    from daemon.services.chat import ChatService
    from tests.conftest import free_port

    checker = _OnLoopChecker() if on_loop else BuiltinChecker()
    home = Path(tempfile.mkdtemp(prefix="bench-checker-"))
    paths = AppPaths(
        *(home / name for name in ("config", "models", "logs", "cache", "state", "run"))
    )
    runtime = Runtime(config=Config(), paths=paths, token="bench", checker=checker)  # type: ignore[arg-type]
    chat = ChatService(None, checker, Config().check)  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), port=port, log_level="warning", lifespan="off")
    )
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.005
    slow = _SlowCallbacks()
    lags: list[float] = []
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    serving = asyncio.run_coroutine_threadsafe(server.serve(), loop)
    while not server.started:
        time.sleep(0.01)
    logging.getLogger("asyncio").addHandler(slow)  # uvicorn's own start-up is not measured
    beat = asyncio.run_coroutine_threadsafe(_heartbeat(lags), loop)

    async def old_gate(prefix: str, completion: str, suffix: str) -> None:
        inner = BuiltinChecker()
        compare(inner.check_text(prefix + suffix), inner.check_text(prefix + completion + suffix))

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for code in codes:
                response = client.post(
                    "/v1/bbj/check", json={"code": code}, headers={"Authorization": "Bearer bench"}
                )
                assert response.status_code == 200, response.text
                if len(code) <= CHAT_ANSWER_CHARS:
                    answer = f"```bbj\n{code}\n```"
                    asyncio.run_coroutine_threadsafe(chat.verify(answer), loop).result()
        for prefix, completion, suffix in requests:
            judging = (
                old_gate(prefix, completion, suffix)
                if on_loop
                else (
                    CompletionGate(checker).judge(prefix, completion, suffix)  # type: ignore[arg-type]
                )
            )
            asyncio.run_coroutine_threadsafe(judging, loop).result()
            time.sleep(0.002)
    finally:
        beat.cancel()
        server.should_exit = True
        serving.result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        logging.getLogger("asyncio").removeHandler(slow)
    return slow.found, lags


def loop_blocking(passing: dict[str, str]) -> None:
    big = _big_file(passing, 150_000)
    huge = _big_file(passing, 1_000_000)
    codes = [big, huge, *list(passing.values())[:20]]
    requests = _gate_requests(big, 50, seed=5)
    print("\n5. event loop held, in a daemon app under uvicorn (asyncio debug: slow callbacks")
    print(f"   over 5 ms; 1 ms heartbeat): /v1/bbj/check on {len(codes)} programs up to")
    chat_kb = CHAT_ANSWER_CHARS // 1000
    print(f"   {len(huge) / 1e6:.1f} MB, chat verify on those up to {chat_kb} KB, then")
    print(f"   {len(requests)} FIM gate judgments in 150 KB")
    logging.getLogger("asyncio").setLevel(logging.WARNING)
    logging.getLogger("asyncio").addHandler(logging.NullHandler())
    for on_loop, label in ((True, "parse on the loop (before)"), (False, "worker thread (now)")):
        found, lags = _serve_and_measure(codes, requests, on_loop)
        worst = max(found, default=(0.0, "-"))
        print(
            f"   {label:27} slow callbacks {len(found):3}, longest {worst[0] * 1000:7.1f} ms "
            f"({worst[1]}) | heartbeat lag p99 {pct(lags, 0.99) * 1000:6.2f} ms, "
            f"max {max(lags, default=0.0) * 1000:7.2f} ms"
        )
        for seconds, where in sorted(found, reverse=True)[1:4] if not on_loop else ():
            print(f"{'':31}also {seconds * 1000:5.1f} ms in {where}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: no corpus at {args.corpus} (it lives in ../shared, beside the repo)")
        return 0
    files = corpus_files(args.corpus)
    throughput(files)
    passing = flagged(files)
    planted(passing, args.per_class)
    gate_cost(passing)
    loop_blocking(passing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
