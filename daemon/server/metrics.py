"""Counters and latency sums rendered in the Prometheus text exposition format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class LiveGauges:
    """Values read from the serving model at scrape time."""

    fim_in_flight: int = 0
    lanes: dict[str, int] = field(default_factory=dict)
    backend_tokens: int = 0

    def render(self) -> list[str]:
        lines = [
            "# HELP bbj_coder_fim_in_flight FIM requests being answered now.",
            "# TYPE bbj_coder_fim_in_flight gauge",
            f"bbj_coder_fim_in_flight {self.fim_in_flight}",
            "# HELP bbj_coder_generations_running Generations running now, per backend lane.",
            "# TYPE bbj_coder_generations_running gauge",
        ]
        lines += [
            f'bbj_coder_generations_running{{lane="{lane}"}} {count}'
            for lane, count in sorted(self.lanes.items())
        ]
        return [
            *lines,
            "# HELP bbj_coder_backend_tokens_total Tokens the serving model generated, "
            "cancelled generations included (resets when the model is reloaded).",
            "# TYPE bbj_coder_backend_tokens_total counter",
            f"bbj_coder_backend_tokens_total {self.backend_tokens}",
        ]


@dataclass
class Metrics:
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    fim_total: Counter[str] = field(default_factory=Counter)
    tokens_generated: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    _latency_buckets: Counter[tuple[str, float]] = field(default_factory=Counter)
    _latency_sum: Counter[str] = field(default_factory=Counter)
    _latency_count: Counter[str] = field(default_factory=Counter)

    def observe_request(self, route: str, status: int) -> None:
        self.requests[(route, status)] += 1

    def observe_latency(self, kind: str, seconds: float) -> None:
        for bound in _BUCKETS:
            if seconds <= bound:
                self._latency_buckets[(kind, bound)] += 1
        self._latency_sum[kind] += seconds
        self._latency_count[kind] += 1

    def observe_generation(self, prompt: int, cached: int, generated: int) -> None:
        self.prompt_tokens += prompt
        self.cached_prompt_tokens += cached
        self.tokens_generated += generated

    def render(self, live: LiveGauges | None = None) -> str:
        lines = [
            "# HELP bbj_coder_requests_total HTTP requests by route and status.",
            "# TYPE bbj_coder_requests_total counter",
        ]
        for (route, status), count in sorted(self.requests.items()):
            lines.append(f'bbj_coder_requests_total{{route="{route}",status="{status}"}} {count}')
        lines += [
            "# HELP bbj_coder_fim_total FIM completions by outcome.",
            "# TYPE bbj_coder_fim_total counter",
        ]
        for outcome, count in sorted(self.fim_total.items()):
            lines.append(f'bbj_coder_fim_total{{outcome="{outcome}"}} {count}')
        for name, value, help_text in (
            ("tokens_generated_total", self.tokens_generated, "Tokens generated."),
            ("prompt_tokens_total", self.prompt_tokens, "Prompt tokens submitted."),
            (
                "prompt_tokens_cached_total",
                self.cached_prompt_tokens,
                "Prompt tokens reused from the KV cache.",
            ),
        ):
            lines += [
                f"# HELP bbj_coder_{name} {help_text}",
                f"# TYPE bbj_coder_{name} counter",
                f"bbj_coder_{name} {value}",
            ]
        lines += [
            "# HELP bbj_coder_latency_seconds Request latency by kind.",
            "# TYPE bbj_coder_latency_seconds histogram",
        ]
        for kind in sorted(self._latency_count):
            for bound in _BUCKETS:
                count = self._latency_buckets[(kind, bound)]
                lines.append(
                    f'bbj_coder_latency_seconds_bucket{{kind="{kind}",le="{bound}"}} {count}'
                )
            total = self._latency_count[kind]
            lines.append(f'bbj_coder_latency_seconds_bucket{{kind="{kind}",le="+Inf"}} {total}')
            lines.append(
                f'bbj_coder_latency_seconds_sum{{kind="{kind}"}} {self._latency_sum[kind]}'
            )
            lines.append(f'bbj_coder_latency_seconds_count{{kind="{kind}"}} {total}')
        if live is not None:
            lines += live.render()
        return "\n".join(lines) + "\n"
