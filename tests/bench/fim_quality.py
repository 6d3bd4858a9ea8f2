"""FIM quality: punch holes in BBj files, complete them through the daemon, and score.

    .venv/bin/python tests/bench/fim_quality.py [--corpus DIR] [--model PATH.gguf] [--holes 3]

For every file it cuts holes of three kinds (a whole line, a multi-line block aligned to BBj
statements, a random span inside a line), asks the daemon's ``/v1/bbj/fim`` for the middle and
prints exact match, edit similarity, the share of completions that pass the built-in checker,
latency percentiles, and the type-ahead cache hit rate on a simulated typing session.
Without --model it uses the tiny random test model: the figures then only show the harness
works; the scores mean something with a real model.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from daemon.check import BuiltinChecker  # noqa: E402
from fim.language import BLOCK_CLOSERS, BLOCK_OPENERS, first_word  # noqa: E402
from tests.conftest import start_daemon  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "check" / "corpus" / "valid"


@dataclass(frozen=True)
class Hole:
    path: str
    kind: str
    prefix: str
    middle: str
    suffix: str


def _line_offsets(text: str) -> list[int]:
    offsets, position = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(position)
        position += len(line)
    offsets.append(position)
    return offsets


def line_hole(path: str, text: str, rng: random.Random) -> Hole | None:
    lines = text.splitlines(keepends=True)
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    if not candidates:
        return None
    index = rng.choice(candidates)
    offsets = _line_offsets(text)
    indent = len(lines[index]) - len(lines[index].lstrip())
    start, end = offsets[index] + indent, offsets[index + 1] - 1
    return Hole(path, "line", text[:start], text[start:end], text[end:])


def block_hole(path: str, text: str, rng: random.Random) -> Hole | None:
    """From a block opener's next line up to (not including) its closer's line."""
    lines = text.splitlines(keepends=True)
    openers = [i for i, line in enumerate(lines) if first_word(line) in BLOCK_OPENERS]
    rng.shuffle(openers)
    offsets = _line_offsets(text)
    for opener in openers:
        depth = 0
        for i in range(opener + 1, min(len(lines), opener + 12)):
            word = first_word(lines[i])
            if word in BLOCK_OPENERS:
                depth += 1
            elif word in BLOCK_CLOSERS:
                if depth == 0:
                    if i - opener >= 2:
                        start, end = offsets[opener + 1], offsets[i]
                        return Hole(path, "block", text[:start], text[start:end], text[end:])
                    break
                depth -= 1
    return None


def span_hole(path: str, text: str, rng: random.Random) -> Hole | None:
    lines = [i for i, line in enumerate(text.splitlines(keepends=True)) if len(line.strip()) > 8]
    if not lines:
        return None
    index = rng.choice(lines)
    offsets = _line_offsets(text)
    line_start, line_end = offsets[index], offsets[index + 1] - 1
    start = rng.randrange(line_start, line_end - 2)
    end = rng.randrange(start + 1, min(line_end, start + 40) + 1)
    return Hole(path, "span", text[:start], text[start:end], text[end:])


def edit_similarity(a: str, b: str) -> float:
    """1 - Levenshtein(a, b) / max(len): 1.0 is identical."""
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


def collect_holes(corpus: Path, per_file: int, seed: int) -> list[Hole]:
    rng = random.Random(seed)
    holes = []
    for path in sorted(corpus.rglob("*.bbj")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for maker in (line_hole, block_hole, span_hole):
            for _ in range(per_file):
                hole = maker(path.name, text, rng)
                if hole is not None:
                    holes.append(hole)
    return holes


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def score(http: httpx.Client, holes: list[Hole]) -> None:
    checker = BuiltinChecker()
    rows: dict[str, list[tuple[bool, float, bool, float]]] = {}
    for hole in holes:
        started = time.perf_counter()
        body = http.post(
            "/v1/bbj/fim",
            json={
                "prefix": hole.prefix,
                "suffix": hole.suffix,
                "path": hole.path,
                "max_tokens": 96,
            },
        ).json()
        elapsed = time.perf_counter() - started
        completion = body["completion"]
        exact = completion.strip() == hole.middle.strip()
        similarity = edit_similarity(completion.strip(), hole.middle.strip())
        passes = checker.check_text(hole.prefix + completion + hole.suffix).ok
        rows.setdefault(hole.kind, []).append((exact, similarity, passes, elapsed))
    print(
        f"{'span':8} {'n':>5} {'exact':>7} {'edit-sim':>9} {'compiles':>9} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
    )
    for kind, results in [*sorted(rows.items()), ("all", [r for v in rows.values() for r in v])]:
        n = len(results)
        latencies = [r[3] * 1000 for r in results]
        print(
            f"{kind:8} {n:5d} {sum(r[0] for r in results) / n:7.1%} "
            f"{statistics.mean(r[1] for r in results):9.3f} {sum(r[2] for r in results) / n:9.1%} "
            f"{pct(latencies, 0.5):8.1f} {pct(latencies, 0.9):8.1f} {pct(latencies, 0.99):8.1f}"
        )


def typing_session(http: httpx.Client, holes: list[Hole], sessions: int) -> None:
    """Type each middle character by character, asking for a completion after every key."""
    hits = requests = 0
    for hole in holes[:sessions]:
        for typed in range(len(hole.middle) + 1):
            body = http.post(
                "/v1/bbj/fim",
                json={
                    "prefix": hole.prefix + hole.middle[:typed],
                    "suffix": hole.suffix,
                    "max_tokens": 48,
                    "client": "typing",
                },
            ).json()
            requests += 1
            hits += bool(body["cached"])
    print(
        f"type-ahead cache: {hits}/{requests} requests answered without the model "
        f"({hits / max(requests, 1):.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--holes", type=int, default=1, help="holes of each kind per file")
    parser.add_argument("--typing-sessions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bbj-fim-quality-"))
    model = args.model
    if model is None:
        from daemon.models.tinymodel import build_tiny_model

        model = build_tiny_model(work / "model").gguf_path
    holes = collect_holes(args.corpus, args.holes, args.seed)
    print(f"model: {model}\ncorpus: {args.corpus} ({len(holes)} holes)")
    daemon = start_daemon(work / "home", "--model", str(model))
    try:
        with httpx.Client(base_url=daemon.url, headers=daemon.headers, timeout=120) as http:
            score(http, holes)
            typing_session(http, [h for h in holes if h.kind == "line"], args.typing_sessions)
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
