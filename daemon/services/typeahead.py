"""Recent completions, reused when the user types exactly what was predicted.

Keyed on (prefix, suffix): a request whose prefix extends a cached prefix by text the cached
completion started with is answered with the rest of that completion, with no model call.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedCompletion:
    prefix: str
    suffix: str
    completion: str


class TypeAheadCache:
    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], CachedCompletion] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def put(self, prefix: str, suffix: str, completion: str) -> None:
        if self.max_entries <= 0 or not completion:
            return
        key = (prefix, suffix)
        self._entries[key] = CachedCompletion(prefix, suffix, completion)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get(self, prefix: str, suffix: str) -> str | None:
        """The remaining completion for this position, or None when nothing cached fits."""
        exact = self._entries.get((prefix, suffix))
        if exact is not None:
            self._entries.move_to_end((prefix, suffix))
            self.hits += 1
            return exact.completion
        for entry in reversed(self._entries.values()):
            if entry.suffix != suffix or not prefix.startswith(entry.prefix):
                continue
            typed = prefix[len(entry.prefix) :]
            if typed and entry.completion.startswith(typed) and len(typed) < len(entry.completion):
                self.hits += 1
                return entry.completion[len(typed) :]
        self.misses += 1
        return None
