"""Next-edit latency with and without prompt-lookup decoding, side by side.

    .venv/bin/python tests/bench/next_edit.py [--model PATH.gguf] [--requests 4] [--tokens 96]

Default model: the realistic Qwen2.5-Coder-0.5B shape (random weights, Q4_K_M) cached under
~/.cache/bbj-coder-bench; --model takes any GGUF (a real next-edit model gives the real figure).
Each request is a next-edit prompt built by ``fim.next_edit`` from a BBj program (the shared
corpus when present) after a rename, served by the daemon's llama backend on its next-edit lane:

  plain   one token per decode step
  lookup  LlamaPromptLookupDecoding drafts up to 10 tokens from the prompt
  oracle  the draft is the plain run's own output: every drafted token is accepted, which is
          what lookup approaches when the model copies the window (a trained next-edit model
          copies most of it; random weights copy nothing, so there ``lookup`` shows only its
          overhead)

Prints median wall time per request, the generation time after the first token (where drafting
acts; prompt evaluation is the same in every mode), drafted tokens rejected per kept token, and
the generation speed-ups lookup/plain and oracle/plain.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from daemon.backends.base import SamplingParams  # noqa: E402
from daemon.backends.llama import LlamaBackend, LlamaOptions  # noqa: E402
from daemon.backends.llama_lookup import PromptLookup  # noqa: E402
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


class OracleDraft:
    """A draft model that proposes the known greedy continuation of ``prompt_tokens``."""

    def __init__(self, prompt_tokens: list[int], output: list[int], n: int = 10) -> None:
        self.prompt_len = len(prompt_tokens)
        self.output = output
        self.n = n

    def __call__(self, input_ids: Any, /, **kwargs: Any) -> Any:
        import numpy as np

        done = len(input_ids) - self.prompt_len
        return np.array(self.output[done : done + self.n], dtype=np.intc)


async def run(model: Path, requests: int, tokens: int) -> None:
    backend = LlamaBackend(LlamaOptions(model_path=model, n_ctx=4096))
    await backend.start()
    params = SamplingParams(max_tokens=tokens, temperature=0.0)
    prompts = [prompt_of(text) for text in programs(requests)]
    rows: dict[str, list[tuple[float, int, float, int]]] = {"plain": [], "lookup": [], "oracle": []}
    sizes: list[int] = []
    try:
        for prompt in prompts:
            encoded = backend.encode(prompt)
            sizes.append(len(encoded))
            outputs: list[int] = []
            for mode, lookup in (("plain", PromptLookup(0)), ("lookup", PromptLookup(10, 2))):
                stream = backend.edit("x", SamplingParams(max_tokens=1), lookup)  # load + warm
                await stream.text()
                lane = backend.edit_lanes[lookup.lane_name]
                lane.llm.reset()  # no KV reuse between modes: each pays for the prompt
                started, before = time.perf_counter(), lane.evaluated
                stream = backend.edit(prompt, params, lookup)
                text = await stream.text()
                rows[mode].append(_row(started, stream.stats, lane.evaluated - before))
                if mode == "plain":  # the generated ids, as decoded into the KV cache
                    outputs = [int(t) for t in lane.llm.input_ids[len(encoded) : lane.llm.n_tokens]]
                del text
            lane = backend.edit_lanes[PromptLookup(10, 2).lane_name]
            saved = lane.llm.draft_model
            lane.llm.draft_model = OracleDraft(encoded, outputs)
            lane.llm.reset()
            started, before = time.perf_counter(), lane.evaluated
            stream = backend.edit(prompt, params, PromptLookup(10, 2))
            await stream.text()
            rows["oracle"].append(_row(started, stream.stats, lane.evaluated - before))
            lane.llm.draft_model = saved
    finally:
        await backend.close()
    print(f"model {model.name}, {len(prompts)} requests, up to {tokens} tokens each")
    print(f"(median prompt {statistics.median(sizes):.0f} tokens; each mode evaluates it afresh)")
    print(
        f"{'mode':8} {'median s':>9} {'tokens':>7} {'gen s':>7} {'gen tok/s':>10} "
        f"{'rejected/token':>15}"
    )
    generation = {}
    for mode, values in rows.items():
        seconds = statistics.median(v[0] for v in values)
        count = statistics.median(v[1] for v in values)
        gen = statistics.median(v[2] for v in values)
        generation[mode] = sum(v[1] for v in values) / sum(v[2] for v in values)
        # Decoded beyond the prompt and the kept tokens: drafted tokens that were rejected.
        rejected = sum(v[3] - size - v[1] for v, size in zip(values, sizes, strict=True))
        per_token = max(0, rejected + len(values)) / sum(v[1] for v in values)
        print(
            f"{mode:8} {seconds:9.3f} {count:7.0f} {gen:7.3f} {generation[mode]:10.1f} "
            f"{per_token:15.2f}"
        )
    plain = generation["plain"]
    print(
        f"generation speed-up lookup/plain {generation['lookup'] / plain:.2f}x, "
        f"oracle/plain {generation['oracle'] / plain:.2f}x (prompt evaluation excluded)"
    )


def _row(started: float, stats: Any, decoded: int) -> tuple[float, int, float, int]:
    """(wall seconds, tokens, seconds after the first token, tokens decoded)."""
    return (
        time.perf_counter() - started,
        stats.completion_tokens,
        max(stats.eval_s, 1e-9),
        decoded,
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
