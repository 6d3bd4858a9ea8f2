"""Wire formats (pydantic) for the OpenAI-style and Ollama-style routes.

Unknown fields are accepted and ignored: editors send more than we use (``tools``,
``response_format``, ``user`` …) and must not fail because of it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TOKENS_LIMIT = 1_048_576


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContentPart(_Lenient):
    type: str
    text: str | None = None


class OpenAIMessage(_Lenient):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class StreamOptions(_Lenient):
    include_usage: bool = False


class _OpenAISampling(_Lenient):
    model: str = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=1)
    logit_bias: dict[int, float] | None = None
    response_format: dict[str, Any] | None = None

    @field_validator("logit_bias")
    @classmethod
    def _bias_range(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        if value and any(not -100 <= v <= 100 for v in value.values()):
            raise ValueError("logit_bias values must be between -100 and 100")
        if value and any(not 0 <= token < 2**31 for token in value):
            raise ValueError("logit_bias keys must be token ids (non-negative integers)")
        return value

    def unsupported(self) -> str | None:
        """A sentence naming an option this daemon would otherwise silently ignore, or None."""
        return None

    def bias(self) -> tuple[tuple[int, float], ...]:
        return tuple(sorted((self.logit_bias or {}).items()))

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class ChatCompletionRequest(_OpenAISampling):
    messages: list[OpenAIMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    tools: list[Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    def unsupported(self) -> str | None:
        if self.logprobs or self.top_logprobs:
            return (
                "'logprobs' is not supported for chat answers (they pass through the "
                "compile-check loop); use /v1/completions with 'logprobs'."
            )
        if isinstance(self.tool_choice, dict) or self.tool_choice == "required":
            return (
                "'tool_choice' cannot force a tool call: bbj-coder does not call tools; "
                "send tool_choice 'auto' or 'none', or leave it out."
            )
        return super().unsupported()


class CompletionRequest(_OpenAISampling):
    prompt: str | list[str]
    suffix: str | None = None
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0, le=20)

    @field_validator("prompt")
    @classmethod
    def _single_prompt(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and len(value) != 1:
            raise ValueError("exactly one prompt is supported per request")
        return value

    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def unsupported(self) -> str | None:
        if self.echo and self.stream:
            return "'echo' is not supported with 'stream'; send one of them."
        if self.echo and self.suffix is not None:
            return "'echo' is not supported with 'suffix' (fill-in-the-middle); send one of them."
        if self.logprobs is not None and (self.stream or self.echo):
            return "'logprobs' is not supported with 'stream' or 'echo'; send it alone."
        if self.response_format and self.response_format.get("type", "text") != "text":
            return "'response_format' applies to /v1/chat/completions, not to completions."
        return super().unsupported()


class OllamaOptions(_Lenient):
    num_predict: int | None = Field(default=None, ge=-2, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    seed: int | None = None
    stop: list[str] | str | None = None
    num_ctx: int | None = Field(default=None, ge=1)
    repeat_penalty: float | None = Field(default=None, ge=0.0)

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class _OllamaBase(_Lenient):
    model: str = Field(min_length=1)
    stream: bool = True
    options: OllamaOptions = Field(default_factory=OllamaOptions)
    keep_alive: int | float | str | None = None
    format: str | dict[str, Any] | None = None

    @field_validator("keep_alive")
    @classmethod
    def _duration(cls, value: int | float | str | None) -> int | float | str | None:
        if isinstance(value, str) and value and parse_duration(value) is None:
            raise ValueError("keep_alive must be seconds or a duration such as '30m' or '1h'")
        return value


class GenerateRequest(_OllamaBase):
    prompt: str = ""
    suffix: str | None = None
    system: str | None = None
    raw: bool = False
    images: list[str] | None = None


class OllamaMessage(_Lenient):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""


class OllamaChatRequest(_OllamaBase):
    messages: list[OllamaMessage] = Field(min_length=1)
    tools: list[Any] | None = None


class ShowRequest(_Lenient):
    model: str | None = None
    name: str | None = None

    def model_name(self) -> str | None:
        return self.model or self.name


class ContextChunk(_Lenient):
    path: str = Field(min_length=1)
    text: str


class BbjCheckRequest(_Lenient):
    code: str
    filename: str | None = None


class BbjFimRequest(_Lenient):
    prefix: str
    suffix: str = ""
    path: str | None = None
    extra: list[ContextChunk] = Field(default_factory=list)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    client: str | None = None


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float | None:
    """Go-style durations as Ollama accepts them (``"5m"``, ``"1h30m"``, ``"-1"``), else None."""
    import re

    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = re.findall(r"(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


class WirePosition(_Lenient):
    """0-based line and character (code points) in the document."""

    line: int = Field(ge=0)
    character: int = Field(ge=0)


class EditHunk(_Lenient):
    """One recent edit: whole lines, each ending in a newline ("" means no lines)."""

    path: str = Field(min_length=1)
    start_line: int = Field(default=0, ge=0)
    original: str
    updated: str


class BbjNextEditRequest(_Lenient):
    path: str = Field(min_length=1)
    text: str
    cursor: WirePosition
    edits: list[EditHunk] = Field(default_factory=list, max_length=1024)
    context: list[ContextChunk] = Field(default_factory=list, max_length=64)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    client: str | None = None
