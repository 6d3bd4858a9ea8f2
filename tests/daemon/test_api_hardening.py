"""Issue #17, HTTP API items: every defect reproduced against a real daemon or the real app."""

from __future__ import annotations

import asyncio
import json
import re
import socket

import httpx
import openai
import pytest

from daemon.server.security import is_loopback_host

COMPLETIONS = "/v1/completions"
CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "say hi"}]


def _error_message(response: httpx.Response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = response.json()["error"]
    return error if isinstance(error, str) else error["message"]


# item 19: Host parsing, /health shows no path and says the digest is the recorded one --------
@pytest.mark.parametrize(
    "host",
    ["localhost:1234@evil.com", "127.0.0.1:80@evil.com", "localhost:80/x", "localhost evil.com"],
)
def test_hosts_with_userinfo_or_junk_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:11435", "127.0.0.1:1", "[::1]:80"])
def test_plain_loopback_hosts_pass(host: str) -> None:
    assert is_loopback_host(host)


def test_host_with_userinfo_is_refused_by_the_daemon(daemon) -> None:
    with daemon.client() as http:
        response = http.get("/v1/models", headers={"Host": "localhost:1234@evil.com"})
    assert response.status_code == 403


def test_health_shows_the_model_name_only_and_a_recorded_digest(daemon, tiny_model) -> None:
    health = httpx.get(f"{daemon.url}/health").json()
    assert str(tiny_model.gguf_path) not in json.dumps(health)
    assert "path" not in health["model"]
    assert "sha256_recorded" in health["model"] and "sha256" not in health["model"]


# item 1: max_tokens beyond the context is clamped and reported, never refused ----------------
def test_max_tokens_beyond_the_context_is_clamped_and_reported(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            COMPLETIONS, json={"model": "bbj-coder", "prompt": "x = ", "max_tokens": 100_000}
        )
        chat = http.post(CHAT, json={"model": "bbj-coder", "messages": USER, "max_tokens": 9000})
    assert response.status_code == 200, response.text
    clamped = int(response.headers["x-bbj-max-tokens-clamped"])
    assert 0 < clamped < 8192
    assert response.json()["usage"]["max_tokens_clamped_to"] == clamped
    assert chat.status_code == 200, chat.text
    assert "max_tokens_clamped_to" in chat.json()["usage"]


# item 2: no 500 for lone surrogates, an empty prompt or a huge path --------------------------
@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (COMPLETIONS, '{"model":"bbj-coder","prompt":"x\\udfff","echo":true,"max_tokens":2}'),
        ("/v1/bbj/check", '{"code":"print \\"\\udfff\\""}'),
        ("/api/generate", '{"model":"bbj-coder","prompt":"\\ud800","stream":false}'),
    ],
)
def test_lone_surrogates_are_a_400_naming_the_field(daemon, path: str, raw: str) -> None:
    with daemon.client() as http:
        response = http.post(path, content=raw, headers={"content-type": "application/json"})
    assert "surrogate" in _error_message(response)


def test_a_surrogate_pair_is_still_accepted(daemon) -> None:
    raw = '{"code":"print \\"\\ud83d\\ude00\\""}'
    with daemon.client() as http:
        response = http.post("/v1/bbj/check", content=raw)
    assert response.status_code == 200, response.text


def test_an_empty_plain_prompt_is_a_400(daemon) -> None:
    with daemon.client() as http:
        response = http.post(COMPLETIONS, json={"model": "bbj-coder", "prompt": ""})
    assert "'prompt' is empty" in _error_message(response)


def test_a_path_longer_than_the_prompt_budget_is_answered(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            "/v1/bbj/fim", json={"prefix": "x = ", "suffix": "", "path": "a/" * 40_000 + "x.bbj"}
        )
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")


def test_an_unexpected_error_is_a_json_500_and_logged(tmp_path, caplog) -> None:
    from daemon.check import BuiltinChecker
    from daemon.config import Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.runtime import Runtime

    class BrokenChecker(BuiltinChecker):
        async def check(self, code: str, filename: str | None = None):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug")

    folders = ("config", "models", "logs", "cache", "state", "run")
    paths = AppPaths(*(tmp_path / name for name in folders))
    runtime = Runtime(config=Config(), paths=paths, token="t", checker=BrokenChecker())

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(runtime), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(
                "/v1/bbj/check", json={"code": "x = 1\n"}, headers={"Authorization": "Bearer t"}
            )

    response = asyncio.run(post())
    assert response.status_code == 500
    assert "RuntimeError" in response.json()["error"]["message"]
    assert any("a bug" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


# item 4: include_usage on plain completion streams -------------------------------------------
def test_plain_completion_streams_send_usage_when_asked(daemon) -> None:
    client = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key=daemon.token)
    chunks = list(
        client.completions.create(
            model="bbj-coder",
            prompt="x = ",
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage and usage[-1].completion_tokens >= 1


# item 5: options either work or are refused by name; models.retrieve exists ------------------
@pytest.mark.parametrize(
    ("path", "extra", "option"),
    [
        (CHAT, {"logprobs": True}, "logprobs"),
        (CHAT, {"top_logprobs": 3, "logprobs": True}, "logprobs"),
        (CHAT, {"response_format": {"type": "yaml"}}, "response_format"),
        (CHAT, {"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format"),
        (
            CHAT,
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "x"}}}},
            "response_format",
        ),
        (CHAT, {"tool_choice": "required", "tools": []}, "tool_choice"),
        (COMPLETIONS, {"logprobs": 2, "stream": True}, "logprobs"),
        (COMPLETIONS, {"prompt": "a", "suffix": "b", "logprobs": 1}, "logprobs"),
        (COMPLETIONS, {"echo": True, "stream": True}, "echo"),
        (COMPLETIONS, {"echo": True, "suffix": "y"}, "echo"),
        ("/api/generate", {"format": "yaml", "stream": False}, "format"),
        ("/api/generate", {"format": "json", "suffix": "x", "stream": False}, "format"),
        ("/api/chat", {"format": "xml", "stream": False}, "format"),
    ],
)
def test_unsupported_options_are_refused_by_name(daemon, path, extra, option) -> None:
    body = {"model": "bbj-coder", **({"messages": USER} if "chat" in path else {"prompt": "x"})}
    body.update(extra)
    with daemon.client() as http:
        response = http.post(path, json=body)
    assert option in _error_message(response)


def test_completion_logprobs_are_those_of_the_sampled_tokens(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            COMPLETIONS,
            json={
                "model": "bbj-coder",
                "prompt": "x = ",
                "max_tokens": 6,
                "temperature": 0,
                "logprobs": 2,
            },
        )
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    logprobs = choice["logprobs"]
    assert logprobs["tokens"] and choice["text"].startswith("".join(logprobs["tokens"])[:1])
    assert (
        len(logprobs["token_logprobs"]) == len(logprobs["tokens"]) == len(logprobs["top_logprobs"])
    )
    for value, top in zip(logprobs["token_logprobs"], logprobs["top_logprobs"], strict=True):
        assert value <= 0 and 1 <= len(top) <= 2
        assert value == pytest.approx(max(top.values()))  # greedy: the chosen one is the likeliest


def _chat(daemon, response_format: dict) -> str:
    body = {"model": "bbj-coder", "messages": USER, "max_tokens": 24}
    with daemon.client() as http:
        response = http.post(CHAT, json={**body, "response_format": response_format})
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def test_json_mode_constrains_the_answer(daemon) -> None:
    assert _chat(daemon, {"type": "json_object"}).lstrip().startswith("{")
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    answer = _chat(daemon, {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}})
    assert re.match(r'\s*\{\s*"a"\s*:', answer), answer


def test_ollama_format_json_constrains_the_answer(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            "/api/generate",
            json={
                "model": "bbj-coder",
                "prompt": "hi",
                "stream": False,
                "format": "json",
                "options": {"num_predict": 16},
            },
        )
    assert response.status_code == 200, response.text
    assert response.json()["response"].lstrip().startswith("{")


def test_json_mode_and_logprobs_need_the_embedded_backend() -> None:
    from daemon.backends.base import BackendInfo
    from daemon.server.api.errors import ApiError
    from daemon.server.api.structured import response_format_grammar

    class OllamaServed:
        def backend_info(self) -> BackendInfo:
            return BackendInfo("ollama", "m", "", 4096, None, "Q4")

    with pytest.raises(ApiError, match=r"'response_format' needs the embedded llama\.cpp"):
        asyncio.run(response_format_grammar(OllamaServed(), {"type": "json_object"}))  # type: ignore[arg-type]


def test_a_json_schema_grammar_is_compiled_off_the_event_loop(monkeypatch) -> None:
    import threading

    from llama_cpp import llama_grammar

    from daemon.server.api.structured import response_format_grammar

    class NothingServed:
        def backend_info(self) -> None:
            return None

    threads: list[str] = []
    real = llama_grammar.json_schema_to_gbnf

    def convert(schema: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(schema, *args, **kwargs)

    monkeypatch.setattr(llama_grammar, "json_schema_to_gbnf", convert)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    wanted = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    grammar = asyncio.run(response_format_grammar(NothingServed(), wanted))  # type: ignore[arg-type]
    assert grammar and "name" in grammar
    assert threads and threads[0] != threading.current_thread().name


def test_text_response_format_is_accepted(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            CHAT,
            json={
                "model": "bbj-coder",
                "messages": USER,
                "max_tokens": 2,
                "response_format": {"type": "text"},
            },
        )
    assert response.status_code == 200, response.text


def test_models_retrieve_with_the_openai_sdk(daemon) -> None:
    client = openai.OpenAI(base_url=f"{daemon.url}/v1", api_key=daemon.token)
    assert client.models.retrieve("bbj-coder").id == "bbj-coder"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


# item 6: streamed tokens are counted; the latency kind is the whole route --------------------
def _counter(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def test_streamed_generations_count_and_kinds_name_the_route(daemon) -> None:
    with daemon.client() as http:
        before = _counter(http.get("/metrics").text, "bbj_coder_tokens_generated_total")
        with http.stream(
            "POST",
            CHAT,
            json={"model": "bbj-coder", "messages": USER, "max_tokens": 5, "stream": True},
        ) as response:
            assert response.status_code == 200
            response.read()
        text = http.get("/metrics").text
    assert _counter(text, "bbj_coder_tokens_generated_total") > before
    assert 'kind="/v1/chat/completions"' in text
    assert 'kind="completions"' not in text


# item 14: the size limit is enforced while reading -------------------------------------------
def test_an_oversized_declared_body_is_refused_before_it_is_read(daemon) -> None:
    host, port = daemon.url.removeprefix("http://").split(":")
    request = (
        f"POST {CHAT} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {daemon.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {64 * 1024 * 1024}\r\n\r\n{{"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head


def test_an_oversized_chunked_body_is_refused(daemon) -> None:
    def chunks():
        yield b'{"model": "bbj-coder", "messages": "'
        for _ in range(20):
            yield b"a" * (1024 * 1024)

    with daemon.client() as http:
        try:
            response = http.post(CHAT, content=chunks())
        except httpx.WriteError:
            return  # the daemon answered and closed before the upload ended: also a refusal
    assert response.status_code == 413


# item 29 (second half): a stream that fails mid-answer leaves a log line with the traceback ---
class _FailingBackend:
    name = "llama"

    def info(self):  # type: ignore[no-untyped-def]
        from daemon.backends.base import BackendInfo

        return BackendInfo("llama", "m", "", 4096, None, "Q4")

    def _failing(self):  # type: ignore[no-untyped-def]
        from daemon.backends.base import TextStream

        stream = TextStream()
        stream.put("partial ")
        stream.finish(RuntimeError("kaboom in the backend"))
        return stream

    def chat(self, messages, params):  # type: ignore[no-untyped-def]
        return self._failing()

    def fim(self, prompt, params):  # type: ignore[no-untyped-def]
        return self._failing()

    def in_flight(self) -> dict[str, int]:
        return {}

    def generated_tokens(self) -> int:
        return 0

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CHAT, {"model": "m", "messages": USER, "stream": True}),
        (COMPLETIONS, {"model": "m", "prompt": "x", "stream": True}),
        ("/api/chat", {"model": "m", "messages": USER}),
        ("/api/generate", {"model": "m", "prompt": "x", "raw": True}),
        ("/v1/bbj/generate", {"task": "print hello", "stream": True}),
    ],
)
def test_a_stream_failing_mid_answer_is_logged(tmp_path, caplog, path, body) -> None:
    from daemon.config import Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.loader import ModelSlot
    from daemon.server.runtime import Runtime

    folders = ("config", "models", "logs", "cache", "state", "run")
    paths = AppPaths(*(tmp_path / name for name in folders))
    slot = ModelSlot(name="m", path=None, backend=_FailingBackend())  # type: ignore[arg-type]
    runtime = Runtime(config=Config(), paths=paths, token="t", slot=slot)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(path, json=body, headers={"Authorization": "Bearer t"})

    response = asyncio.run(post())
    assert response.status_code == 200
    assert "kaboom in the backend" in response.text  # the client's error event
    logged = [r for r in caplog.records if r.exc_info and "kaboom" in str(r.exc_info[1])]
    assert logged, "the failure left no log line with its traceback"
