"""The embedded llama.cpp backend (one model, one context, one worker thread)."""

from daemon.backends.llama.backend import LlamaBackend, LlamaOptions, default_threads

__all__ = ["LlamaBackend", "LlamaOptions", "default_threads"]
