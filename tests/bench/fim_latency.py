"""FIM latency: raw llama-cpp-python vs the daemon over HTTP vs llama_cpp.server, side by side.

    .venv/bin/python tests/bench/fim_latency.py [--model PATH.gguf] [--rounds 30]

Without --model it builds the tiny test model, whose generation is so fast that HTTP overhead
dominates: use a real model for the b/a figure that matters. The daemon runs with its type-ahead
cache and compile gate off so that all three do the same work per request. Prints median and
p95 per system and the ratios b/a and b/c, plus the warm-cache (one more character typed) vs
cold ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fim import QWEN25_CODER  # noqa: E402
from tests.conftest import free_port, start_daemon  # noqa: E402

TEMPLATES = [
    (
        "class public Invoice{i}\n  field public BBjNumber Total{i}\n"
        "  method public void add{i}(BBjNumber n)\n    ",
        "\n  methodend\nclassend\n",
    ),
    ("rem report {i}\nfor i = 1 to 10\n  print i; rem line {i}\n  ", "\nnext i\nend\n"),
    (
        '0010 rem legacy {i}\n0020 open (1)"cust{i}.dat"\n0030 read (1,key=k$,err=9000) ',
        "\n0040 close (1)\n",
    ),
]


def prompts(rounds: int) -> list[tuple[str, str]]:
    return [(p.format(i=i), s) for i in range(rounds) for p, s in TEMPLATES][:rounds]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_daemon(
    url: str, headers: dict[str, str], cases: list[tuple[str, str]]
) -> tuple[list[float], list[int]]:
    times, tokens = [], []
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        for prefix, suffix in cases:
            started = time.perf_counter()
            body = http.post(
                "/v1/bbj/fim",
                json={"prefix": prefix, "suffix": suffix, "max_tokens": 32, "client": "bench"},
            ).json()
            times.append(time.perf_counter() - started)
            tokens.append(max(1, body["timings"]["completion_tokens"]))
    return times, tokens


def run_raw(model: Path, cases: list[tuple[str, str]], tokens: list[int]) -> list[float]:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(model), n_ctx=4096, verbose=False)
    times = []
    for (prefix, suffix), n in zip(cases, tokens, strict=True):
        started = time.perf_counter()
        llm.create_completion(QWEN25_CODER.render(prefix, suffix), max_tokens=n, temperature=0)
        times.append(time.perf_counter() - started)
    return times


def run_llama_server(
    model: Path, cases: list[tuple[str, str]], tokens: list[int]
) -> list[float] | None:
    try:
        import llama_cpp.server.app  # noqa: F401  (needs the [server] extra: fastapi, sse-starlette)
    except ImportError:
        return None
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        if not _wait_until_up(f"{url}/v1/models", proc):
            return None
        times = []
        with httpx.Client(base_url=url, timeout=120) as http:
            for (prefix, suffix), n in zip(cases, tokens, strict=True):
                started = time.perf_counter()
                http.post(
                    "/v1/completions",
                    json={
                        "prompt": QWEN25_CODER.render(prefix, suffix),
                        "max_tokens": n,
                        "temperature": 0,
                    },
                )
                times.append(time.perf_counter() - started)
        return times
    finally:
        proc.terminate()
        proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> bool:
    for _ in range(600):
        if proc.poll() is not None:
            return False
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.HTTPError:
            time.sleep(0.1)
    return False


def warm_vs_cold(url: str, headers: dict[str, str], rounds: int) -> tuple[float, float]:
    cold, warm = [], []
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        for i in range(rounds):
            prefix = f"rem file {i}\n" + "x = 1\n" * 200 + "print "
            for bucket, text in ((cold, prefix), (warm, prefix + "x")):
                started = time.perf_counter()
                http.post(
                    "/v1/bbj/fim",
                    json={"prefix": text, "suffix": "\nend\n", "max_tokens": 1, "client": "bench"},
                )
                bucket.append(time.perf_counter() - started)
    return statistics.median(cold), statistics.median(warm)


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:28} median {statistics.median(values) * 1000:8.1f} ms   "
        f"p95 {pct(values, 0.95) * 1000:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bbj-bench-"))
    model = args.model
    if model is None:
        from daemon.models.tinymodel import build_tiny_model

        model = build_tiny_model(work / "model").gguf_path
    cases = prompts(args.rounds)
    daemon = start_daemon(
        work / "home",
        "--model",
        str(model),
        BBJ_CODER_MODEL_N_CTX="4096",
        BBJ_CODER_FIM_CACHE_SIZE="0",  # every request runs the model, as (a) and (c) do
        BBJ_CODER_CHECK_FIM="false",  # no second candidate: the same work as (a) and (c)
    )
    try:
        run_daemon(daemon.url, daemon.headers, cases[:3])  # warm-up
        b, tokens = run_daemon(daemon.url, daemon.headers, cases)
        cold, warm = warm_vs_cold(daemon.url, daemon.headers, max(5, args.rounds // 3))
    finally:
        daemon.stop()
    a = run_raw(model, cases, tokens)
    c = run_llama_server(model, cases, tokens)
    print(
        f"model: {model}  prompts: {len(cases)}  tokens/completion: {statistics.mean(tokens):.1f}"
    )
    report("(a) raw llama-cpp-python", a)
    report("(b) bbj-coder daemon (HTTP)", b)
    if c is not None:
        report("(c) llama_cpp.server", c)
    print(
        f"b/a median ratio: {statistics.median(b) / statistics.median(a):.2f}   "
        f"p95 ratio: {pct(b, 0.95) / pct(a, 0.95):.2f}"
    )
    if c is not None:
        print(f"b/c median ratio: {statistics.median(b) / statistics.median(c):.2f}")
    else:
        print("b/c: llama_cpp.server not installed (pip install 'llama-cpp-python[server]')")
    print(
        f"warm (one more char typed) / cold: {warm / cold:.2f}  "
        f"({warm * 1000:.1f} ms vs {cold * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
