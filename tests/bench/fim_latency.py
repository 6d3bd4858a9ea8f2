"""FIM latency on a real-size model: the daemon vs raw llama-cpp-python vs ``llama_cpp.server``.

    .venv/bin/python tests/bench/fim_latency.py --shape 0.5b [--rounds 5] [--tokens 16]
    .venv/bin/python tests/bench/fim_latency.py --model PATH.gguf

``--shape`` reads the randomly initialised GGUFs with the real Qwen2.5-Coder shapes cached in
~/.cache/bbj-coder-bench/qwen2.5-coder-<shape>-shape-v1/ (``bench-<shape>-endless``: greedy
output never ends early, so every system generates the same tokens; ``-varied``: output that
stops and varies, for the typing session with shipped defaults). ``llama_cpp.server`` runs from
~/.cache/bbj-coder-bench/server-deps when present. All three use the same GGUF, the same
rendered prompts, n_ctx 4096 and the daemon's thread counts. Random weights say nothing about
completion quality: these are latency figures only. Prints medians (and p95) per row, the
ratios and the load average: the machine may be shared, so compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from daemon.backends.llama import default_threads  # noqa: E402
from fim import QWEN25_CODER, ContextFile  # noqa: E402
from fim.context import assemble_prompt  # noqa: E402
from tests.conftest import free_port, start_daemon  # noqa: E402

CACHE = Path.home() / ".cache" / "bbj-coder-bench"
N_CTX = 4096
BUDGET, PREFIX_SHARE = 1024, 0.875  # the shipped [fim] defaults


def shape_model(shape: str, variant: str) -> Path:
    path = CACHE / f"qwen2.5-coder-{shape}-shape-v1" / f"bench-{shape}-{variant}.Q4_K_M.gguf"
    if not path.exists():
        sys.exit(f"{path} is missing: build the {shape} shape GGUFs first, or pass --model")
    return path


def program(seed: int, lines: int) -> str:
    rnd = random.Random(seed)
    words = ["cust", "order", "total", "qty", "price", "name", "addr", "rec", "key", "amt"]
    out = [f"rem module {seed}"]
    for i in range(lines):
        a, b = rnd.choice(words), rnd.choice(words)
        out.append(f"{a}{rnd.randint(1, 99)}$ = {b}{i}$ + str({rnd.randint(1, 999)})")
    return "\n".join(out) + "\n"


class Case:
    """A cursor in a file, rendered exactly as the daemon renders it (same budget and shares),
    so every system is given the same prompt."""

    def __init__(
        self, prefix: str, suffix: str, count: Callable[[str], int], context: tuple = ()
    ) -> None:
        self.prefix, self.suffix, self.context = prefix, suffix, context
        self.prompt = assemble_prompt(
            prefix,
            suffix,
            fmt=QWEN25_CODER,
            count_tokens=count,
            max_prompt_tokens=BUDGET,
            context=context,
            path="bench.bbj" if context else None,
            prefix_share=PREFIX_SHARE,
        ).prompt

    def body(self, tokens: int, client: str = "bench") -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "suffix": self.suffix,
            "path": "bench.bbj" if self.context else None,
            "extra": [{"path": c.path, "text": c.text} for c in self.context],
            "max_tokens": tokens,
            "client": client,
        }


class Raw:
    def __init__(self, model: Path, threads: int) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(
            model_path=str(model),
            n_ctx=N_CTX,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )

    def count(self, text: str) -> int:
        # As the daemon counts and as create_completion tokenises: a FIM marker is one token.
        # Counting markers as text made every Case 10-15 % shorter than the daemon's prompt.
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def fim(self, case: Case, tokens: int) -> float:
        started = time.perf_counter()
        self.llm.create_completion(case.prompt, max_tokens=tokens, temperature=0)
        return time.perf_counter() - started


class Server:
    def __init__(self, model: Path, threads: int) -> None:
        deps = CACHE / "server-deps"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(deps), str(ROOT)]))
        self.port = free_port()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "llama_cpp.server", "--model", str(model)),
                *("--port", str(self.port), "--n_ctx", str(N_CTX)),
                *("--n_threads", str(threads), "--n_threads_batch", str(threads)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_s = _wait_until_up(f"{self.url}/v1/models", self.proc, started)

    def fim(self, case: Case, tokens: int) -> float:
        started = time.perf_counter()
        httpx.post(
            f"{self.url}/v1/completions",
            json={"prompt": case.prompt, "max_tokens": tokens, "temperature": 0},
            timeout=600,
        )
        return time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], started: float) -> float | None:
    while time.perf_counter() - started < 600:
        if proc.poll() is not None:
            return None
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            time.sleep(0.05)
    return None


class Daemon:
    def __init__(self, work: Path, model: Path, threads: int, **env: str) -> None:
        started = time.perf_counter()
        self.running = start_daemon(
            work, "--model", str(model), BBJ_CODER_MODEL_N_CTX=str(N_CTX),
            BBJ_CODER_MODEL_N_THREADS=str(threads), **env,
        )  # fmt: skip
        self.startup_s = time.perf_counter() - started
        self.http = httpx.Client(
            base_url=self.running.url, headers=self.running.headers, timeout=600
        )

    def fim(self, case: Case, tokens: int, client: str = "bench") -> tuple[float, dict]:
        started = time.perf_counter()
        body = self.http.post("/v1/bbj/fim", json=case.body(tokens, client)).json()
        return time.perf_counter() - started, body

    def stop(self) -> None:
        self.http.close()
        self.running.stop()


def memory_mb(pid: int, field: str = "Pss") -> float:
    """``Pss`` or ``Anonymous`` (private memory, not the shared mapped GGUF) in MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, name: str, d: float, a: float | None, c: float | None, goal: str, unit="ms"):
        scale = 1000

        def cell(v: float | None) -> str:
            if v is None or v != v:
                return "n/a"
            return f"{v * scale:.0f} ms" if unit == "ms" else f"{v:.2f} {unit}"

        ratios = " / ".join(f"{d / v:.2f}x" if v else "n/a" for v in (a, c))
        if unit == "x":  # the row is a ratio already
            ratios = ""
        self.rows.append((name, cell(d), cell(a), cell(c), f"{ratios} ({goal})"))
        print(" | ".join(self.rows[-1]), flush=True)  # progress: a run takes minutes

    def note(self, name: str, text: str) -> None:
        self.rows.append((name, text, "", "", ""))
        print(f"{name}: {text}", flush=True)

    def print(self) -> None:
        print("| row | daemon | raw llama-cpp-python | llama_cpp.server |", end="")
        print(" daemon/raw / daemon/server (goal) |")
        print("|---|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", choices=["0.5b", "1.5b"])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--keystrokes", type=int, default=24)
    args = parser.parse_args()
    if args.model is None and args.shape is None:
        parser.error("give --shape or --model")
    endless = args.model or shape_model(args.shape, "endless")
    varied = args.model or shape_model(args.shape, "varied")
    threads = default_threads()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bbj-bench-{os.getpid()}"
    table = Table()
    print(f"model {endless.name}, {os.cpu_count()} cores, {threads} threads, n_ctx {N_CTX}")
    print(f"load average before: {os.getloadavg()}", flush=True)

    # like-for-like daemon: no type-ahead cache, no compile gate (the peers have neither)
    daemon = Daemon(
        work / "plain", endless, threads, BBJ_CODER_FIM_CACHE_SIZE="0", BBJ_CODER_CHECK_FIM="false"
    )
    server = Server(endless, threads)
    raw = Raw(endless, threads)
    count = raw.count
    n = args.tokens
    try:
        # cold: a different file each round, interleaved system by system
        cold: dict[str, list[float]] = {"d": [], "a": [], "c": []}
        for i in range(args.rounds):
            text = program(1000 + i, 160)
            cut = text.index("\n", len(text) * 3 // 4)
            case = Case(text[: cut - 10], text[cut - 10 : cut + 400], count)
            spent, body = daemon.fim(case, n)
            k = max(1, body["timings"]["completion_tokens"])
            cold["d"].append(spent)
            cold["a"].append(raw.fim(case, k))
            cold["c"].append(server.fim(case, k))
        table.add("cold FIM", med(cold["d"]), med(cold["a"]), med(cold["c"]), "<= 1.05x raw")

        # typing: one more character per request, cache off (every keystroke runs the model)
        def typing(context: tuple, seed: int) -> dict[str, list[float]]:
            text = program(seed, 160)
            cut = text.index("\n", len(text) * 3 // 4)
            times: dict[str, list[float]] = {"d": [], "a": [], "c": []}
            for j in range(args.rounds + 1):
                case = Case(text[:cut] + "\nx = " + "Q" * j, text[cut:], count, context)
                spent, body = daemon.fim(case, n)
                k = max(1, body["timings"]["completion_tokens"])
                a, c = raw.fim(case, k), server.fim(case, k)
                if j:  # the first one warms every system
                    times["d"].append(spent), times["a"].append(a), times["c"].append(c)
            return times

        plain = typing((), 7)
        warm_key = med(plain["d"])
        table.add("typing (warm keystroke)", warm_key, med(plain["a"]), med(plain["c"]), "")
        ctx = (
            ContextFile("lib/a.bbj", program(11, 25)),
            ContextFile("lib/b.bbj", program(12, 25)),
        )
        withctx = typing(ctx, 8)
        table.add("typing with 2 context files", med(withctx["d"]), med(withctx["a"]),
                  med(withctx["c"]), "")  # fmt: skip

        # cursor jumps: the same file, the cursor at another line each time
        text = program(21, 160)
        jumps: dict[str, list[float]] = {"d": [], "a": [], "c": []}
        ends = [m for m in range(len(text)) if text[m] == "\n"][
            40 : 140 : 100 // max(1, args.rounds)
        ]
        for j, cut in enumerate(ends[: args.rounds + 1]):
            case = Case(text[:cut] + "\nx = ", text[cut:], count)
            spent, body = daemon.fim(case, n)
            k = max(1, body["timings"]["completion_tokens"])
            a, c = raw.fim(case, k), server.fim(case, k)
            if j:
                jumps["d"].append(spent), jumps["a"].append(a), jumps["c"].append(c)
        table.add("cursor jump", med(jumps["d"]), med(jumps["a"]), med(jumps["c"]), "")

        # burst: 10 keystrokes 30 ms apart, same client; each answered when superseded
        burst_rows(daemon, server, count, n, warm_key, table)
        # FIM during a streaming chat
        chat_rows(daemon, server, count, n, warm_key, args.rounds, table)
        table.add("start-up to /health", daemon.startup_s, None, server.startup_s,
                  "<= 1.5x server", unit="s")  # fmt: skip
        for field in ("Pss", "Anonymous"):
            mine = memory_mb(daemon.running.process.pid, field)
            theirs = memory_mb(server.proc.pid, field)
            text = f"{mine:.0f} MB vs server {theirs:.0f} MB: {mine / theirs:.2f}x (<= 1.1x)"
            table.note(field, text)
    finally:
        daemon.stop()
        server.stop()
    try:
        session_rows(work, varied, endless, threads, args, count, table)
    finally:
        raw.llm.close()  # its tokenizer counted for the cases until here
    print(f"load average after: {os.getloadavg()}")
    table.print()
    shutil.rmtree(work, ignore_errors=True)


def burst_rows(daemon: Daemon, server: Server, count, n: int, lone: float, table: Table) -> None:
    text = program(31, 160)
    cut = text.index("\n", len(text) * 3 // 4)
    daemon.fim(Case(text[:cut] + "\nx = ", text[cut:], count), n)  # warm
    sent, answered = [0.0] * 10, [0.0] * 10
    # Rendered before the clock starts, as for every other row.
    cases = [Case(text[:cut] + "\nx = " + "Q" * (j + 1), text[cut:], count) for j in range(10)]
    others = [Case(text[:cut] + "\nx = " + "Z" * (j + 1), text[cut:], count) for j in range(10)]

    def fire(j: int) -> None:
        sent[j] = time.perf_counter()
        daemon.fim(cases[j], n, "burst")
        answered[j] = time.perf_counter()

    threads = []
    for j in range(10):
        thread = threading.Thread(target=fire, args=(j,))
        thread.start()
        threads.append(thread)
        time.sleep(0.03)
    for thread in threads:
        thread.join()
    # a superseded answer counts from the moment the request that superseded it was sent
    late = [answered[j] - sent[j + 1] for j in range(9)]
    table.add("burst: superseded answered", max(late), None, None, "<= 50 ms, worst of 9")
    last = answered[9] - sent[9]

    def fire_server(j: int, out: list[float]) -> None:
        started = time.perf_counter()
        server.fim(others[j], n)
        out.append(time.perf_counter() - started)

    server_times: list[float] = []
    threads = [threading.Thread(target=fire_server, args=(j, server_times)) for j in range(10)]
    for thread in threads:
        thread.start()
        time.sleep(0.03)
    for thread in threads:
        thread.join()
    table.add("burst: last answer / lone", last / lone, None, max(server_times) / lone,
              "<= 1.2x", unit="x")  # fmt: skip


def chat_rows(daemon, server, count, n: int, idle: float, rounds: int, table: Table) -> None:
    text = program(41, 160)
    cut = text.index("\n", len(text) * 3 // 4)
    stop = threading.Event()

    def chat(url: str, headers: dict[str, str]) -> None:
        body = {
            "model": "bbj-coder",
            "messages": [{"role": "user", "content": "Write a long BBj program."}],
            "max_tokens": 3000,
            "stream": True,
        }
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers,
                          timeout=600) as response:  # fmt: skip
            for _ in response.iter_lines():
                if stop.is_set():
                    return

    thread = threading.Thread(target=chat, args=(daemon.running.url, daemon.running.headers))
    thread.start()
    time.sleep(1.0)
    during = []
    for j in range(rounds + 1):
        spent, _ = daemon.fim(Case(text[:cut] + "\nx = " + "Q" * j, text[cut:], count), n)
        if j:
            during.append(spent)
    stop.set()
    thread.join()
    stop.clear()
    thread = threading.Thread(target=chat, args=(server.url, {}))
    thread.start()
    time.sleep(1.0)
    server_during = server.fim(Case(text[:cut] + "\nx = ", text[cut:], count), n)
    stop.set()
    thread.join()
    table.add("FIM during a chat / idle", med(during) / idle, None, server_during / idle,
              "<= 1.3x", unit="x")  # fmt: skip


def session_rows(work: Path, varied: Path, endless: Path, threads: int, args, count, table):
    """Shipped defaults (type-ahead cache, compile gate, time budget) on the varied model."""
    daemon = Daemon(work / "defaults", varied, threads)
    try:
        text = program(51, 160)
        cut = text.index("\n", len(text) * 3 // 4)
        line = "total$ = cust1$ + str(qty2)"
        shown = deliberate = 0
        latencies = []
        for j in range(1, min(args.keystrokes, len(line)) + 1):
            case = Case(text[:cut] + "\n" + line[:j], text[cut:], count)
            spent, body = daemon.fim(case, 96, "session")
            latencies.append(spent)
            rejected = body["check"] is not None and not body["check"]["passed"]
            if body["completion"]:
                shown += 1
            elif rejected or body["finish_reason"] != "time":
                deliberate += 1  # the gate or post-processing said "nothing here"
        keys = len(latencies)
        table.note(
            "typing session, shipped defaults",
            f"{shown}/{keys} shown, {deliberate} deliberately empty, "
            f"{keys - shown - deliberate} empty by the clock; median {med(latencies) * 1000:.0f}"
            f" ms, p95 {sorted(latencies)[int(0.95 * (keys - 1))] * 1000:.0f} ms (>= 90 %)",
        )
    finally:
        daemon.stop()
    # A context change answered from the type-ahead cache, a 3 s pause, the next keystroke. On
    # the endless model without the gate (random weights rarely pass it), so that completions
    # are cached as they would be with a real model.
    daemon = Daemon(work / "cached", endless, threads, BBJ_CODER_CHECK_FIM="false")
    try:
        text = program(53, 160)
        cut = text.index("\n", len(text) * 3 // 4)
        base = text[:cut] + "\nname$ = "
        plain = []
        for j in range(args.rounds + 1):
            spent, _ = daemon.fim(Case(base + "Q" * j, text[cut:], count), 16, "ctx")
            if j:
                plain.append(spent)
        ctx = (ContextFile("lib/new.bbj", program(52, 30)),)
        _, body = daemon.fim(Case(base + "Q" * args.rounds, text[cut:], count, ctx), 16, "ctx")
        time.sleep(3.0)
        after, _ = daemon.fim(Case(base + "Q" * args.rounds + "W", text[cut:], count, ctx), 16,
                              "ctx")  # fmt: skip
        table.add(
            "after context change + 3 s pause / warm key"
            + ("" if body["cached"] else " (change not served from cache)"),
            after / med(plain), None, None, "<= 1.2x", unit="x",
        )  # fmt: skip
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
