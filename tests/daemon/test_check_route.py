"""POST /v1/bbj/check on the daemon, and the checker named in /health."""

from __future__ import annotations

import httpx


def test_broken_code_gets_diagnostics_on_the_right_line(daemon) -> None:
    code = 'rem report\nfor i = 1 to 3\n  print "x\n'
    response = httpx.post(
        f"{daemon.url}/v1/bbj/check",
        headers=daemon.headers,
        json={"code": code, "filename": "report.bbj"},
    )
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False
    assert result["checker"] == "builtin"
    assert {d["line"] for d in result["diagnostics"]} & {2, 3}


def test_valid_code_passes(daemon) -> None:
    code = "for i = 1 to 3\n  print i\nnext i\nend\n"
    result = httpx.post(
        f"{daemon.url}/v1/bbj/check", headers=daemon.headers, json={"code": code}
    ).json()
    assert result["ok"] is True and result["diagnostics"] == []


def test_bad_input_is_400(daemon) -> None:
    response = httpx.post(f"{daemon.url}/v1/bbj/check", headers=daemon.headers, json={"code": 5})
    assert response.status_code == 400
    assert "code" in response.json()["error"]["message"]


def test_health_names_the_checker(daemon) -> None:
    assert "built-in checker" in httpx.get(f"{daemon.url}/health").json()["checker"]


def test_fim_responses_say_how_the_gate_judged_them(tiny_model, tmp_path) -> None:
    from tests.conftest import start_daemon

    running = start_daemon(tmp_path, "--model", str(tiny_model.gguf_path))
    try:
        verdicts = set()
        for i in range(6):
            response = httpx.post(
                f"{running.url}/v1/completions",
                headers=running.headers,
                json={
                    "model": "bbj-coder",
                    "prompt": f"x{i} = ",
                    "suffix": "\n",
                    "max_tokens": 12,
                    "temperature": 0,
                },
            )
            assert response.status_code == 200
            text = response.json()["choices"][0]["text"]
            if response.headers["x-bbj-check"] == "unchecked":
                assert text == ""  # nothing survived post-processing, so nothing to check
                continue
            checker, verdict, attempts = response.headers["x-bbj-check"].split(":")
            assert checker == "builtin" and int(attempts) >= 1
            verdicts.add(verdict)
            if verdict == "dropped":
                assert text == ""
        assert verdicts and verdicts <= {"pass", "dropped"}
    finally:
        running.stop()


def test_fim_endpoint_reports_the_generation_and_its_signals(daemon) -> None:
    prefix = "0010 PRINT @(0,0),'CS'\n0020 PRINT @(5,5),\"Name: \",\n"
    body = httpx.post(
        f"{daemon.url}/v1/bbj/fim",
        headers=daemon.headers,
        json={"prefix": prefix, "suffix": "\n", "max_tokens": 2},
    ).json()
    assert body["generation"]["name"] == "character"
    assert body["generation"]["signals"]
    gui = 'sysgui! = BBjAPI().getSysGui()\nwindow! = sysgui!.addWindow(10,10,200,200,"x")\n'
    body = httpx.post(
        f"{daemon.url}/v1/bbj/fim",
        headers=daemon.headers,
        json={"prefix": gui, "suffix": "", "max_tokens": 2},
    ).json()
    assert body["generation"]["name"] == "bbj-gui"


def test_diagnostics_carry_line_column_and_what_was_expected(daemon) -> None:
    result = httpx.post(
        f"{daemon.url}/v1/bbj/check", headers=daemon.headers, json={"code": "x = 1\nx = 1 +\n"}
    ).json()
    (diagnostic,) = result["diagnostics"]
    assert (diagnostic["line"], diagnostic["col"]) == (2, 8)
    assert diagnostic["message"] == "expected an expression after `+`"
    assert result["skipped"] is None


def test_a_protected_program_is_not_checked(daemon) -> None:
    code = "<<bbj>>\x07\x81'\"Zq\n\x00\x00 tokenized bytes\n"
    result = httpx.post(
        f"{daemon.url}/v1/bbj/check", headers=daemon.headers, json={"code": code}
    ).json()
    assert result["ok"] is True and result["diagnostics"] == []
    assert result["skipped"].startswith("not BBj source, not checked")


def test_a_large_program_is_checked_in_the_daemons_worker_process(daemon) -> None:
    method = "  method public void m{i}()\n    x = {i} + 1\n  methodend\n"
    code = "class public Big\n" + "".join(method.format(i=i) for i in range(2000)) + "wend\n"
    result = httpx.post(
        f"{daemon.url}/v1/bbj/check", headers=daemon.headers, json={"code": code}, timeout=60
    ).json()
    assert [d["message"] for d in result["diagnostics"]] == [
        "`class` is never closed: expected `classend` before the end of the program",
        "`wend` without `while`",
    ]
    assert "checker process failed" not in daemon.log()


def test_the_route_checks_off_the_event_loop(tmp_path) -> None:
    import asyncio
    import threading

    from daemon.check import BuiltinChecker
    from daemon.config import Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.runtime import Runtime

    threads: list[int] = []

    class RecordingChecker(BuiltinChecker):
        def check_text(self, code: str):  # type: ignore[no-untyped-def]
            threads.append(threading.get_ident())
            return super().check_text(code)

    folders = ("config", "models", "logs", "cache", "state", "run")
    paths = AppPaths(*(tmp_path / name for name in folders))
    runtime = Runtime(config=Config(), paths=paths, token="t", checker=RecordingChecker())

    async def post() -> tuple[int, dict]:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await client.post(
                "/v1/bbj/check", json={"code": "x = 1\n"}, headers={"Authorization": "Bearer t"}
            )
        return threading.get_ident(), response.json()

    loop_thread, body = asyncio.run(post())
    assert body["ok"] is True
    assert threads and loop_thread not in threads
