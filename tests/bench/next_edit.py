"""Next-edit latency with and without prompt-lookup decoding, side by side.

    .venv/bin/python tests/bench/next_edit.py [--model PATH.gguf] [--requests 4] [--tokens 96]

Default model: the realistic Qwen2.5-Coder-0.5B shape (random weights, Q4_K_M) cached under
~/.cache/bbj-coder-bench; --model takes any GGUF (a real next-edit model gives the real figure).
Each request is a next-edit prompt built by ``fim.next_edit`` from a BBj program (the shared
corpus when present) after a rename, served by the daemon's llama backend on its next-edit KV
sequence:

  plain   one token per decode step
  lookup  drafts of up to 10 tokens found in the prompt, checked a batch at a time (greedy: the
          output is the same as plain's; random weights copy little of their prompt, so there
          ``lookup`` mostly shows its overhead, a trained next-edit model copies most of it)

Prints median wall time per request, the generation time after the first token (where drafting
acts), the draft tokens checked and accepted, and the generation speed-up lookup/plain.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from daemon.backends.base import PromptLookup, SamplingParams  # noqa: E402
from daemon.backends.llama import LlamaBackend, LlamaOptions  # noqa: E402
from fim.next_edit import SWEEP_QWEN, Hunk, NextEditState, Position, build_prompt  # noqa: E402

SHAPE = Path.home() / ".cache/bbj-coder-bench/qwen2.5-coder-0.5b-shape-v1"
CORPUS = ROOT.parent / "shared/corpus/bbj"


def programs(count: int) -> list[str]:
    """BBj programs of 40+ lines: from the corpus when present, else synthetic."""
    found: list[str] = []
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*.bbj")):
            text = path.read_text(errors="replace")
            if text.count("\n") >= 40:
                found.append(text)
            if len(found) == count:
                return found
    while len(found) < count:
        i = len(found)
        body = "".join(
            f'    total{i}! = total{i}! + {n}\n    print "step {n}"\n' for n in range(20)
        )
        found.append(
            f"class public Job{i}\n  method public void run()\n{body}  methodend\nclassend\n"
        )
    return found


def prompt_of(text: str) -> str:
    lines = text.split("\n")
    line = min(20, len(lines) - 2)
    edited = lines[line] + " rem renamed"
    hunk = Hunk("bench.bbj", line, (lines[line],), (edited,))
    lines[line] = edited
    state = NextEditState("bench.bbj", "\n".join(lines), Position(line, 0), (hunk,))
    return build_prompt(SWEEP_QWEN, state).prompt


async def run(model: Path, requests: int, tokens: int) -> None:
    backend = LlamaBackend(LlamaOptions(model_path=model, n_ctx=4096))
    await backend.start()
    engine = backend._engine
    params = SamplingParams(max_tokens=tokens, temperature=0.0)
    prompts = [prompt_of(text) for text in programs(requests)]
    rows: dict[str, list[tuple[float, int, float]]] = {"plain": [], "lookup": []}
    drafts = {"plain": [0, 0], "lookup": [0, 0]}
    sizes: list[int] = []
    try:
        await backend.edit("x", SamplingParams(max_tokens=1)).text()  # warm up
        for prompt in prompts:
            sizes.append(len(backend.encode(prompt)))
            for mode, lookup in (("plain", PromptLookup(0, 2)), ("lookup", PromptLookup(10, 2))):
                drafted, accepted = engine.drafted, engine.accepted
                started = time.perf_counter()
                stream = backend.edit(prompt, params, lookup)
                await stream.text()
                stats = stream.stats
                wall = time.perf_counter() - started
                rows[mode].append((wall, stats.completion_tokens, max(stats.eval_s, 1e-9)))
                drafts[mode][0] += engine.drafted - drafted
                drafts[mode][1] += engine.accepted - accepted
    finally:
        await backend.close()
    print(f"model {model.name}, {len(prompts)} requests, up to {tokens} tokens each")
    print(
        f"(median prompt {statistics.median(sizes):.0f} tokens; lookup runs second and finds the "
        "prompt in the KV already, so compare generation, not wall time)"
    )
    print(
        f"{'mode':8} {'median s':>9} {'tokens':>7} {'gen s':>7} {'gen tok/s':>10} "
        f"{'drafted':>8} {'accepted':>9}"
    )
    generation = {}
    for mode, values in rows.items():
        seconds = statistics.median(v[0] for v in values)
        count = statistics.median(v[1] for v in values)
        gen = statistics.median(v[2] for v in values)
        generation[mode] = sum(v[1] for v in values) / sum(v[2] for v in values)
        print(
            f"{mode:8} {seconds:9.3f} {count:7.0f} {gen:7.3f} {generation[mode]:10.1f} "
            f"{drafts[mode][0]:8d} {drafts[mode][1]:9d}"
        )
    print(
        f"generation speed-up lookup/plain {generation['lookup'] / generation['plain']:.2f}x "
        "(prompt evaluation excluded)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    model = args.model or next(iter(sorted(SHAPE.glob("*varied*.gguf"))), None)
    if model is None or not model.exists():
        print(f"no model: pass --model or build the 0.5B shape under {SHAPE}", file=sys.stderr)
        return 2
    asyncio.run(run(model, args.requests, args.tokens))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
