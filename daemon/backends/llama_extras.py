"""Optional generation features of the embedded llama.cpp backend: a GBNF grammar (JSON mode)
and per-token log-probabilities. Kept apart from ``llama.py`` so its generation loop only calls
two functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon.backends.base import TokenLogprob


def compiled_grammar(gbnf: str | None) -> Any:
    """A ``LlamaGrammar`` for ``gbnf`` (None without one); the API validated it already."""
    if not gbnf:
        return None
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


def token_logprob(llm: Any, token: int, top: int) -> TokenLogprob:
    """The log-probability of ``token`` under the raw logits it was sampled from, plus the
    ``top`` likeliest tokens. llama.cpp keeps the last evaluated position's logits in the
    context (llama-cpp-python copies them to ``scores`` only with ``logits_all``), and the
    sampled token is not evaluated yet when the generator yields it."""
    import numpy as np

    pointer = llm._ctx.get_logits_ith(-1)
    logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
    shifted = logits - logits.max()
    logprobs = shifted - np.log(np.exp(shifted).sum())
    alternatives: tuple[tuple[str, float], ...] = ()
    if top > 0:
        best = np.argsort(logprobs)[::-1][:top]
        alternatives = tuple((_piece(llm, int(i)), float(logprobs[i])) for i in best)
    return TokenLogprob(_piece(llm, token), float(logprobs[token]), alternatives)


def _piece(llm: Any, token: int) -> str:
    return str(llm._model.detokenize([token], special=False).decode("utf-8", errors="replace"))


def chat_template_problem(path: Path) -> str | None:
    """Why the GGUF's ``tokenizer.chat_template`` would stop llama-cpp-python from loading it
    (it compiles the template with Jinja at load time), or None when it has none or it is valid.
    """
    import gguf
    import jinja2
    import jinja2.sandbox

    try:
        field = gguf.GGUFReader(path, "r").get_field("tokenizer.chat_template")
    except (OSError, ValueError) as exc:
        return f"cannot read {path.name}: {exc}"
    if field is None:
        return None
    template = bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
    try:
        jinja2.sandbox.ImmutableSandboxedEnvironment().from_string(template)
    except jinja2.TemplateError as exc:
        return f"the chat_template of {path.name} is not valid Jinja: {exc}"
    return None
