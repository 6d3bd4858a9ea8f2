"""Issue #17 items 9 and 10: a hung, leaky or noisy bbjcpl must not hold up or flood anyone."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

from daemon.check import BbjcplChecker, CheckResult, CompletionGate, describe_checker
from daemon.check._bbjcpl import MAX_DIAGNOSTICS
from tests.check.helpers import posix_only
from tests.check.test_bbjcpl import _wait_until_gone

BROKEN_CODE = 'print "fine"\nprint "unterminated\n'


def _script(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "bbjcpl"
    target.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    target.chmod(0o755)
    return target


def _hung(tmp_path: Path) -> Path:
    return _script(tmp_path / "hung", "import time\ntime.sleep(60)\n")


@posix_only
def test_a_child_bbjcpl_leaves_behind_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    program = _script(
        tmp_path / "leaky",
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n",
    )
    result = asyncio.run(BbjcplChecker(program, timeout_s=5).check('print "x"\n'))
    assert result.tool_error is None, result.tool_error
    assert _wait_until_gone(int(pidfile.read_text()))


@posix_only
def test_stderr_and_diagnostics_are_capped(tmp_path: Path) -> None:
    line = "x.bbj: error at line 10 (1):  print x\n"
    program = _script(
        tmp_path / "noisy",
        f"import sys\nfor _ in range(20):\n    sys.stderr.write({line!r} * 50000)\n",
    )
    result = asyncio.run(BbjcplChecker(program, timeout_s=30).check("print x\n"))
    assert not result.ok
    assert len(result.diagnostics) == MAX_DIAGNOSTICS + 1
    assert "more problems not shown" in result.diagnostics[-1].message


@posix_only
def test_a_timeout_rests_bbjcpl_and_the_builtin_checker_serves(tmp_path: Path) -> None:
    checker = BbjcplChecker(_hung(tmp_path), timeout_s=0.5, retry_s=3600)

    async def scenario() -> None:
        first = await checker.check(BROKEN_CODE)
        assert first.tool_error and "did not finish" in first.tool_error
        second = await checker.check(BROKEN_CODE)
        assert second.checker == "builtin" and not second.ok and second.tool_error is None
        assert checker.runs == 1
        assert "unhealthy" in describe_checker(checker)
        checker._resting_until = 0.0  # the rest is over: the next check tries bbjcpl again
        third = await checker.check('print "ok"\n')
        assert third.checker == "bbjcpl" and checker.runs == 2

    asyncio.run(scenario())


@posix_only
def test_the_gate_answers_within_the_fim_budget_and_trips_the_breaker(tmp_path: Path) -> None:
    checker = BbjcplChecker(_hung(tmp_path), timeout_s=1.0, retry_s=3600)

    async def scenario() -> None:
        gate = CompletionGate(checker)
        deadline = time.monotonic() + 0.2
        verdict = await gate.judge('print "a"\n', 'print "unterminated\n', "end\n", deadline)
        assert verdict.checker == "builtin" and not verdict.passed
        while checker.resting() is None:  # the slow run goes on in the background
            await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(scenario(), 30))


@posix_only
def test_health_says_bbjcpl_is_unhealthy(tmp_path: Path) -> None:
    from daemon.config import CheckSettings, Config
    from daemon.paths import AppPaths
    from daemon.server.api import create_app
    from daemon.server.runtime import Runtime

    config = Config(
        check=CheckSettings(checker="bbjcpl", bbjcpl=str(_hung(tmp_path)), timeout_s=0.5)
    )
    folders = ("config", "models", "logs", "cache", "state", "run")
    runtime = Runtime(config=config, paths=AppPaths(*(tmp_path / f for f in folders)), token="t")

    async def scenario() -> tuple[dict, dict]:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            headers = {"Authorization": "Bearer t"}
            await client.post("/v1/bbj/check", json={"code": "x = 1\n"}, headers=headers)
            served = await client.post("/v1/bbj/check", json={"code": BROKEN_CODE}, headers=headers)
            health = await client.get("/health")
        return served.json(), health.json()

    served, health = asyncio.run(scenario())
    assert served["checker"] == "builtin" and not served["ok"]
    assert "unhealthy" in health["checker"] and "did not finish" in health["checker"]
    assert os.name == "posix"


class _SlowChecker:
    """A checker that answers, correctly, after a while (bbjcpl starting a JVM)."""

    name = "slow"

    async def check(self, code: str, filename: str = "snippet.bbj") -> CheckResult:
        await asyncio.sleep(0.3)
        return CheckResult(ok=True, diagnostics=(), checker=self.name, duration_s=0.3)


def test_the_gate_waits_for_a_slow_checker_until_the_requests_own_deadline() -> None:
    # The FIM budget runs from the first generated token, which on a CPU can come seconds
    # after the request arrived: the gate counts to the deadline it is given, not its own.
    async def scenario() -> tuple[str, str]:
        gate = CompletionGate(_SlowChecker())
        passed = await gate.judge("x = 1\n", "y = 2\n", "", time.monotonic() + 0.01)
        later = await CompletionGate(_SlowChecker()).judge(
            "x = 1\n", "y = 2\n", "", time.monotonic() + 60
        )
        return passed.checker, later.checker

    assert asyncio.run(scenario()) == ("builtin", "slow")
