"""The embedded backend's next-edit lane on the tiny model: prompt-lookup decoding drafts
tokens yet writes exactly what plain greedy decoding writes."""

from __future__ import annotations

import asyncio

from daemon.backends.base import SamplingParams
from daemon.backends.llama import LlamaBackend, LlamaOptions
from daemon.backends.llama_lookup import PromptLookup
from fim.next_edit import SWEEP_QWEN, Hunk, NextEditState, Position, build_prompt

PROGRAM = "".join(f'print "line {i}", count, total\n' for i in range(30))


def _prompt() -> str:
    hunk = Hunk("p.bbj", 3, ('print "line 3", x, total',), ('print "line 3", count, total',))
    state = NextEditState("p.bbj", PROGRAM, Position(12, 0), (hunk,))
    return build_prompt(SWEEP_QWEN, state).prompt


def test_lookup_drafts_tokens_and_changes_nothing_in_greedy_output(tiny_model) -> None:
    async def run() -> dict[str, tuple[str, int, int]]:
        backend = LlamaBackend(LlamaOptions(model_path=tiny_model.gguf_path, n_ctx=2048))
        await backend.start()
        results: dict[str, tuple[str, int, int]] = {}
        try:
            params = SamplingParams(max_tokens=48, temperature=0.0)
            for lookup in (PromptLookup(0), PromptLookup(8, 2)):
                stream = backend.edit(_prompt(), params, lookup)
                text = await stream.text()
                lane = backend.edit_lanes[lookup.lane_name]
                results[lookup.lane_name] = (text, stream.stats.completion_tokens, lane.evaluated)
            assert backend._fim_lane is not None
            assert all(
                lane.llm is not backend._fim_lane.llm for lane in backend.edit_lanes.values()
            )
        finally:
            await backend.close()
        assert backend.edit_lanes == {}
        return results

    results = asyncio.run(run())
    plain_text, plain_tokens, plain_evaluated = results["edit"]
    lookup_text, lookup_tokens, lookup_evaluated = results["edit-lookup8x2"]
    assert plain_tokens > 0
    assert lookup_text == plain_text and lookup_tokens == plain_tokens
    # Drafted tokens are evaluated (and mostly rejected by a random model) on top of the prompt.
    assert lookup_evaluated > plain_evaluated
