"""Bearer token, DNS-rebinding and browser-Origin defences (DESIGN §2.1)."""

from __future__ import annotations

import httpx


def test_missing_token_is_401(daemon) -> None:
    response = httpx.get(f"{daemon.url}/v1/models")
    assert response.status_code == 401
    assert "bearer token" in response.json()["error"]["message"]


def test_wrong_token_is_401_on_ollama_routes_with_ollama_shape(daemon) -> None:
    response = httpx.get(f"{daemon.url}/api/tags", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str)


def test_foreign_host_is_403_even_with_token(daemon) -> None:
    response = httpx.get(
        f"{daemon.url}/v1/models", headers={**daemon.headers, "Host": "evil.example"}
    )
    assert response.status_code == 403
    assert "evil.example" in response.json()["error"]["message"]


def test_foreign_host_is_refused_on_health_too(daemon) -> None:
    response = httpx.get(f"{daemon.url}/health", headers={"Host": "evil.example:11435"})
    assert response.status_code == 403


def test_loopback_host_names_are_accepted(daemon) -> None:
    port = daemon.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        response = httpx.get(f"{daemon.url}/v1/models", headers={**daemon.headers, "Host": host})
        assert response.status_code == 200, host


def test_browser_origin_is_403(daemon) -> None:
    response = httpx.post(
        f"{daemon.url}/v1/chat/completions",
        headers={**daemon.headers, "Origin": "https://evil.example"},
        json={"model": "bbj-coder", "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_health_needs_no_token_and_leaks_none(daemon) -> None:
    response = httpx.get(f"{daemon.url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert daemon.token not in response.text


def test_token_file_is_private(daemon) -> None:
    mode = (daemon.home / "config" / "token").stat().st_mode & 0o777
    assert mode == 0o600
