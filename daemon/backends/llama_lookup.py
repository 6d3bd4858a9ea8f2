"""The next-edit request's prompt-lookup setting; the embedded backend's engine drafts from the
prompt with it (:meth:`daemon.backends.llama.LlamaBackend.edit`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptLookup:
    """Draft ``tokens`` tokens after the longest (up to ``ngram``) match in the prompt;
    ``tokens == 0`` means plain decoding."""

    tokens: int = 10
    ngram: int = 2
