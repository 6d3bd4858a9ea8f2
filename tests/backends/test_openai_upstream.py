"""The team-server backend against the daemon's OpenAI-compatible ``/v1`` (a real upstream)."""

from __future__ import annotations

import shutil

import pytest

from daemon.backends.base import Backend, ChatMessage, SamplingParams
from daemon.backends.openai_upstream import OpenAIOptions, OpenAIUpstreamBackend
from daemon.errors import BackendUnavailableError, ModelNotFoundError
from fim import QWEN25_CODER
from tests.backends.standins import openai_models_app, recording_proxy, self_signed_cert, serving
from tests.conftest import free_port

pytestmark = pytest.mark.asyncio


def on_daemon(daemon, **options) -> OpenAIUpstreamBackend:
    options.setdefault("api_key", daemon.token)
    options.setdefault("fim_format", QWEN25_CODER)
    return OpenAIUpstreamBackend(OpenAIOptions(base_url=f"{daemon.url}/v1", **options))


async def refusal(backend: OpenAIUpstreamBackend, error: type[Exception]) -> str:
    with pytest.raises(error) as caught:
        await backend.start()
    await backend.close()
    return str(caught.value)


async def test_fim_streams_a_rendered_prompt(daemon) -> None:
    backend = on_daemon(daemon)
    await backend.start()
    try:
        assert isinstance(backend, Backend)
        info = backend.info()
        assert (info.name, info.model_name, info.fim_format) == (
            "openai",
            "bbj-coder",
            "qwen2.5-coder",
        )
        prompt = QWEN25_CODER.render("rem upstream fim\nname$ = ", "\nprint name$\n")
        stream = backend.fim(prompt, SamplingParams(max_tokens=8, temperature=0))
        await stream.text()
        assert stream.stats.prompt_tokens > 0  # the upstream's usage report arrived
        assert stream.stats.finish_reason in ("stop", "length")
        assert backend.in_flight() == {"fim": 0, "chat": 0}
    finally:
        await backend.close()


async def test_a_plain_prompt_streams_token_by_token(daemon) -> None:
    backend = on_daemon(daemon)
    await backend.start()
    try:
        stream = backend.fim("rem hello\n", SamplingParams(max_tokens=16, temperature=0))
        chunks = [chunk async for chunk in stream]
        assert len(chunks) > 1
        assert stream.stats.completion_tokens >= len(chunks) - 1
    finally:
        await backend.close()


async def test_chat_streams_an_answer_with_usage(daemon) -> None:
    backend = on_daemon(daemon)
    await backend.start()
    try:
        stream = backend.chat([ChatMessage("user", "Say hello.")], SamplingParams(max_tokens=12))
        assert await stream.text()
        assert stream.stats.prompt_tokens > 0
        assert 1 <= stream.stats.completion_tokens <= 12
    finally:
        await backend.close()


async def test_a_wrong_model_name_lists_the_models_the_server_has(daemon) -> None:
    message = await refusal(on_daemon(daemon, model="gpt-bbj"), ModelNotFoundError)
    assert "'gpt-bbj'" in message
    assert "bbj-coder" in message
    assert "backend.upstream_model" in message


async def test_a_wrong_key_is_a_sentence_about_the_key(daemon) -> None:
    message = await refusal(on_daemon(daemon, api_key="sk-wrong"), BackendUnavailableError)
    assert "rejected the API key" in message
    assert "upstream_api_key_file" in message


async def test_a_missing_key_says_one_is_needed(daemon) -> None:
    message = await refusal(on_daemon(daemon, api_key=None), BackendUnavailableError)
    assert "needs an API key" in message


async def test_a_base_url_without_v1_is_explained(daemon) -> None:
    backend = OpenAIUpstreamBackend(OpenAIOptions(base_url=daemon.url, api_key=daemon.token))
    message = await refusal(backend, BackendUnavailableError)
    assert "including /v1" in message


async def test_an_unreachable_server_is_a_sentence() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    message = await refusal(
        OpenAIUpstreamBackend(OpenAIOptions(base_url=url)), BackendUnavailableError
    )
    assert "not reachable" in message and url in message


async def test_credentials_in_the_url_are_never_shown() -> None:
    url = f"http://bob:s3cret@127.0.0.1:{free_port()}/v1"
    backend = OpenAIUpstreamBackend(OpenAIOptions(base_url=url))
    message = await refusal(backend, BackendUnavailableError)
    assert "s3cret" not in message and "s3cret" not in repr(backend.info())


# proxies and TLS ----------------------------------------------------------------------------
@pytest.fixture
def proxy_env(monkeypatch):
    for key in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(key, raising=False)

    def use(proxy_url: str) -> None:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("http_proxy", proxy_url)

    return use


async def test_a_remote_server_is_reached_through_the_environment_proxy(proxy_env) -> None:
    models = {"object": "list", "data": [{"id": "bbj-coder"}]}
    with recording_proxy(models) as proxy:
        proxy_env(proxy.url)
        backend = OpenAIUpstreamBackend(OpenAIOptions(base_url="http://gpu.team.invalid/v1"))
        await backend.start()
        await backend.close()
    assert proxy.seen == ["http://gpu.team.invalid/v1/models"]


async def test_a_loopback_server_bypasses_the_proxy(daemon, proxy_env) -> None:
    with recording_proxy({"data": []}) as proxy:
        proxy_env(proxy.url)
        backend = on_daemon(daemon)
        await backend.start()
        await backend.close()
    assert proxy.seen == []


@pytest.fixture
def tls_server(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = self_signed_cert(tmp_path)
    with serving(openai_models_app(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        yield f"{url}/v1", cert


async def test_an_untrusted_certificate_points_at_the_ca_bundle_setting(tls_server) -> None:
    url, _ = tls_server
    message = await refusal(
        OpenAIUpstreamBackend(OpenAIOptions(base_url=url)), BackendUnavailableError
    )
    assert "certificate is not trusted" in message
    assert "upstream_ca_bundle" in message


async def test_a_ca_bundle_makes_a_private_certificate_trusted(tls_server) -> None:
    url, cert = tls_server
    backend = OpenAIUpstreamBackend(OpenAIOptions(base_url=url, ca_bundle=cert))
    await backend.start()
    await backend.close()


async def test_an_unreadable_ca_bundle_is_a_sentence(tmp_path) -> None:
    options = OpenAIOptions(base_url="https://127.0.0.1:1/v1", ca_bundle=tmp_path / "none.pem")
    message = await refusal(OpenAIUpstreamBackend(options), BackendUnavailableError)
    assert "Cannot load the CA bundle" in message
