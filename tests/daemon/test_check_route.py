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
