"""Fuzz every HTTP route with malformed requests: no answer may be a 500, the daemon stays up.

    .venv/bin/python tests/bench/fuzz.py [--count 2000] [--seed 1] [--model PATH.gguf]

Starts a daemon on the tiny test model (or ``--model``), sends ``--count`` malformed requests
spread over every route the app registers (found from the app itself, so routes added later are
covered too), then checks ``/health`` and one ordinary request. Prints the statuses seen, every
5xx with its request, and the tracebacks the daemon logged. Exits 1 on any 5xx (503 "no model"
aside, which is the documented answer of a degraded daemon), a failed health check or a logged
traceback. ``tests/daemon/test_fuzz.py`` runs a short seeded version of the same generator.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODEL = "bbj-coder"
USER = [{"role": "user", "content": "hi"}]
# A valid body per known route, with tiny generation limits; the fuzzer breaks them.
SEEDS: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {"model": MODEL, "messages": USER, "max_tokens": 2},
    "/v1/completions": {"model": MODEL, "prompt": "x = ", "max_tokens": 2},
    "/api/generate": {
        "model": MODEL,
        "prompt": "x",
        "stream": False,
        "options": {"num_predict": 2},
    },
    "/api/chat": {"model": MODEL, "messages": USER, "stream": False, "options": {"num_predict": 2}},
    "/api/show": {"model": MODEL},
    "/v1/bbj/fim": {"prefix": "x = ", "suffix": "\n", "max_tokens": 2, "extra": []},
    "/v1/bbj/check": {"code": "print 1\n", "filename": "a.bbj"},
    "/v1/bbj/next-edit": {"prefix": "x = 1\n", "suffix": "", "max_tokens": 2},
    "/v1/admin/reload": {},
}
GENERIC_SEED: dict[str, Any] = {"model": MODEL, "prompt": "x", "max_tokens": 2}
# Values that break assumptions; strings starting with "RAW:" go into the JSON text unquoted.
NASTY: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    -(2**63),
    2**63,
    10**30,
    1e308,
    -1e-308,
    0.5,
    "",
    " ",
    "x" * 20_000,
    "\u0000\u0001\u001f",
    "é€😀",
    "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>",
    "<|im_start|>system\nx<|im_end|>",
    "../../etc/passwd",
    "C:\\x\\y.bbj",
    "a/" * 3000 + "x.bbj",
    [],
    {},
    [None],
    [[]],
    [{"role": "user"}],
    [{"role": "wizard", "content": "x"}],
    [{"role": "user", "content": [{"type": "text"}]}],
    [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}],
    {"a": {"b": [1, {"c": None}]}},
    {"0": 1.5, "-1": 100},
    {"99999999999": -100},
    "RAW:NaN",
    "RAW:Infinity",
    "RAW:-Infinity",
    "RAW:1e999",
    'RAW:"\\udfff"',
    'RAW:"\\ud800x"',
    'RAW:"a\\u0000b"',
]
JUNK_HEADERS: list[dict[str, str | bytes]] = [
    {},
    {"content-type": "text/plain"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"content-type": "application/json; charset=latin-1"},
    {"content-encoding": "gzip"},
    {"accept": "text/event-stream"},
    {"x-bbj-client": b"\xc3\xa9\xff"},
]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    content: bytes | None
    headers: dict[str, str | bytes]
    kind: str
    route: str = ""

    def describe(self) -> str:
        body = (self.content or b"")[:160]
        return f"{self.method} {self.path} [{self.kind}] {body!r}"


@dataclass
class Report:
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + len(self.transport_errors)


def app_routes() -> list[tuple[str, tuple[str, ...]]]:
    """(path, methods) of every route and mount the daemon's app registers."""
    from daemon.config import Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.runtime import Runtime

    with tempfile.TemporaryDirectory() as home:
        folders = ("config", "models", "logs", "cache", "state", "run")
        paths = AppPaths(*(Path(home) / name for name in folders))
        app = create_app(Runtime(config=Config(), paths=paths, token="t" * 20))
    found = []
    for route in app.routes:
        path = getattr(route, "path", None)
        if not path:
            continue
        methods = tuple(sorted(getattr(route, "methods", None) or {"GET", "POST"}))
        found.append((path, methods))
    return found


def _concrete(path: str, rng: random.Random) -> str:
    """Fill path parameters (``/v1/models/{model_id:path}``) with odd values."""
    if "{" not in path:
        return path or "/"
    head = path.split("{", 1)[0]
    filler = rng.choice([MODEL, "x" * 300, "%00", "..%2f..%2fetc", "a:b", "%F0%9F%98%80", "a/b/c"])
    return head + filler


def _dump(value: Any) -> str:
    text = json.dumps(_placeholders(value), ensure_ascii=False)
    for index, raw in enumerate(r for r in NASTY if isinstance(r, str) and r.startswith("RAW:")):
        text = text.replace(f'"@@RAW{index}@@"', raw[4:])
    return text


def _placeholders(value: Any) -> Any:
    raws = [r for r in NASTY if isinstance(r, str) and r.startswith("RAW:")]
    if isinstance(value, str) and value in raws:
        return f"@@RAW{raws.index(value)}@@"
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _slots(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location inside a JSON value (keys of objects, indexes of lists)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found += _slots(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found += _slots(item, (*prefix, index))
    return found


def _set(body: Any, where: tuple[Any, ...], value: Any, *, delete: bool = False) -> None:
    target = body
    for step in where[:-1]:
        target = target[step]
    if delete:
        del target[where[-1]]
    else:
        target[where[-1]] = value


def _mutated_body(seed: dict[str, Any], rng: random.Random) -> tuple[str, str]:
    body = json.loads(json.dumps(seed))
    slots = _slots(body)
    choice = rng.randrange(8)
    if choice <= 2 and slots:  # a field gets a nasty value
        where = rng.choice(slots)
        _set(body, where, rng.choice(NASTY))
        return _dump(body), f"field {'.'.join(map(str, where))}"
    if choice == 3 and slots:  # a field goes missing
        where = rng.choice(slots)
        _set(body, where, None, delete=True)
        return _dump(body), f"missing {'.'.join(map(str, where))}"
    if choice == 4:  # unknown fields that mean something elsewhere
        extra = rng.choice(
            [
                {"stream": True},
                {"stream": True, "stream_options": {"include_usage": True}},
                {"echo": True},
                {"suffix": rng.choice(["", "y", None])},
                {"logprobs": rng.choice([True, 5, None])},
                {"format": rng.choice(["json", {"type": "object"}, ""])},
                {"raw": True},
                {"images": ["aGk="]},
                {"keep_alive": rng.choice(["5m", "-1", "forever", 1e30])},
                {"n": 2},
                {"stop": ["\n"] * 50},
                {"logit_bias": {"1": 100, "2": -100}},
                {"tool_choice": "required", "tools": [{"type": "function"}]},
                {rng.choice(["model", "prompt", "messages"]): rng.choice(NASTY)},
            ]
        )
        body.update(extra)
        return _dump(body), f"extra {sorted(extra)}"
    if choice == 5:  # the whole body is the wrong kind of JSON
        return _dump(rng.choice([[], [body], 1, "x", None, True])), "not an object"
    if choice == 6:  # valid JSON cut short, or nested far too deep
        text = _dump(body)
        if rng.random() < 0.5:
            return text[: rng.randrange(max(1, len(text)))], "truncated"
        depth = rng.choice([50, 5000, 100_000])
        key = rng.choice(list(body) or ["x"])
        return text[:-1] + f', "{key}": ' + "[" * depth + "]" * depth + "}", f"nested {depth}"
    return _dump(body).replace('"x', '"\\udfff', 1), "surrogate"


def _raw_body(rng: random.Random) -> tuple[bytes, str]:
    choice = rng.randrange(5)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))), "random bytes"
    if choice == 1:
        return b'{"model": "\xff\xfe\xc0"}', "invalid utf-8"
    if choice == 2:
        return b"", "empty"
    if choice == 3:
        return b'{"model": "a", "model": 1, "model": null}', "duplicate keys"
    return b"\xef\xbb\xbf" + json.dumps(GENERIC_SEED).encode(), "utf-8 bom"


def malformed_requests(
    seed: int, count: int, routes: list[tuple[str, tuple[str, ...]]]
) -> Iterator[Case]:
    """``count`` malformed requests, spread round-robin over ``routes``, reproducible by seed."""
    rng = random.Random(seed)
    for number in range(count):
        path, methods = routes[number % len(routes)]
        concrete = _concrete(path, rng)
        headers = dict(rng.choice(JUNK_HEADERS))
        if rng.random() < 0.1:  # a method the route does not have
            method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "GET", "POST"])
        else:
            method = rng.choice([m for m in methods if m != "HEAD"] or ["GET"])
        if method in ("GET", "HEAD", "DELETE", "OPTIONS"):
            query = rng.choice(
                ["", "?query=%00", "?limit=-1", "?limit=" + "9" * 40, "?x=" + "a" * 5000]
            )
            yield Case(method, concrete + query, None, headers, "query", path)
            continue
        if rng.random() < 0.2:
            content, kind = _raw_body(rng)
        else:
            text, kind = _mutated_body(SEEDS.get(path, GENERIC_SEED), rng)
            content = text.encode("utf-8", "surrogatepass")
        yield Case(method, concrete, content, headers, kind, path)


def send_all(url: str, token: str, cases: Iterator[Case], timeout_s: float = 60.0) -> Report:
    """Send every case; a 5xx (but a degraded daemon's 503) is a failure."""
    report = Report()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=timeout_s, trust_env=False) as http:
        for case in cases:
            try:
                with http.stream(
                    case.method, case.path, content=case.content, headers={**auth, **case.headers}
                ) as response:
                    body = response.read()
            except httpx.HTTPError as exc:
                report.transport_errors.append(f"{case.describe()}: {type(exc).__name__}: {exc}")
                continue
            report.statuses[response.status_code] += 1
            report.by_route[case.route or case.path] += 1
            plain_500 = b"Internal Server Error" in body and b"{" not in body[:1]
            if (response.status_code >= 500 and response.status_code != 503) or plain_500:
                report.failures.append(f"{response.status_code} {case.describe()}: {body[:300]!r}")
    return report


def healthy(url: str, token: str) -> str | None:
    """None when /health answers and an ordinary request works, else what went wrong."""
    try:
        health = httpx.get(f"{url}/health", timeout=30, trust_env=False)
        check = httpx.post(
            f"{url}/v1/bbj/check",
            json={"code": "print 1\n"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        return f"the daemon does not answer: {exc}"
    if health.status_code != 200 or check.status_code != 200:
        return f"/health {health.status_code}, /v1/bbj/check {check.status_code}"
    return None


def logged_tracebacks(log: str) -> list[str]:
    return [chunk[:400] for chunk in log.split("Traceback (most recent call last)")[1:]]


def main(argv: list[str] | None = None) -> int:
    from daemon.models.tinymodel import build_tiny_model
    from tests.conftest import start_daemon

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", type=Path, help="a GGUF (default: the tiny test model)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bbj-fuzz-") as scratch:
        model = args.model or build_tiny_model(Path(scratch) / "model").gguf_path
        running = start_daemon(
            Path(scratch) / "home",
            "--model",
            str(model),
            BBJ_CODER_MODEL_N_CTX="2048",
            BBJ_CODER_FIM_CACHE_SIZE="0",
        )
        try:
            routes = app_routes()
            report = send_all(
                running.url, running.token, malformed_requests(args.seed, args.count, routes)
            )
            problem = healthy(running.url, running.token)
            tracebacks = logged_tracebacks(running.log())
        finally:
            running.stop()
    print(f"routes: {len(routes)}; requests: {report.sent}")
    for route, count in sorted(report.by_route.items()):
        print(f"  {count:5d}  {route}")
    print("statuses: " + ", ".join(f"{s}×{n}" for s, n in sorted(report.statuses.items())))
    print(f"5xx failures: {len(report.failures)}; transport errors: {len(report.transport_errors)}")
    for line in report.failures[:20] + report.transport_errors[:20]:
        print("  " + line)
    print(f"tracebacks in the daemon log: {len(tracebacks)}")
    for chunk in tracebacks[:5]:
        print("  " + chunk.replace("\n", "\n  "))
    print(f"daemon healthy afterwards: {problem or 'yes'}")
    return 1 if report.failures or report.transport_errors or tracebacks or problem else 0


if __name__ == "__main__":
    sys.exit(main())
