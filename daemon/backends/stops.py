"""Client stop strings applied to a text stream, holding back only what could still be a stop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from daemon.backends.base import GenerationStats, TextStream


class StopMatcher:
    """Feed chunks in; get back the text that is safe to emit and whether a stop was reached."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._longest = max((len(s) for s in self.stops), default=0)
        self._pending = ""
        self.stopped = False

    def feed(self, chunk: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return chunk
        text = self._pending + chunk
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return text[:cut]
        keep = self._partial_tail(text)
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return "" if self.stopped else text

    def _partial_tail(self, text: str) -> int:
        """Length of the longest tail of ``text`` that is a proper prefix of some stop string."""
        for size in range(min(self._longest - 1, len(text)), 0, -1):
            tail = text[-size:]
            if any(stop.startswith(tail) for stop in self.stops):
                return size
        return 0


async def apply_stops(stream: TextStream, stops: Sequence[str]) -> AsyncIterator[str]:
    """Yield the stream's text up to the first stop string, then cancel generation."""
    matcher = StopMatcher(stops)
    async for chunk in stream:
        text = matcher.feed(chunk)
        if text:
            yield text
        if matcher.stopped:
            stream.stats.finish_reason = "stop"
            stream.cancel()
            return
    tail = matcher.flush()
    if tail:
        yield tail


class StoppedStream:
    """A backend stream with client stop strings applied: iterate it for the text to send."""

    def __init__(self, stream: TextStream, stops: Sequence[str]) -> None:
        self.stream = stream
        self.stops = tuple(stops)

    @property
    def stats(self) -> GenerationStats:
        return self.stream.stats

    def cancel(self) -> None:
        self.stream.cancel()

    def __aiter__(self) -> AsyncIterator[str]:
        return apply_stops(self.stream, self.stops)
