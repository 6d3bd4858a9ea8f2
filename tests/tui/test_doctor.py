"""The health checks with the daemon up, down and broken; bbjcpl present and absent."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import daemon.setup.doctor._daemon as daemon_checks
import daemon.setup.doctor._machine as machine_checks
import daemon.setup.doctor._model as model_checks
import daemon.setup.doctor._runner as runner
from daemon.config import Config
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel
from daemon.paths import AppPaths, app_paths
from daemon.setup.doctor import (
    CHECK_NAMES,
    CheckOutcome,
    DoctorContext,
    DoctorSettings,
    HashCache,
    check_compiler,
    check_continue,
    check_gpu,
    check_latency,
    check_ollama,
    gather_context,
    ollama_url,
    run_doctor,
)
from tests.check.helpers import install_fake_bbjcpl
from tests.conftest import RunningDaemon, free_port, start_daemon
from tests.tui.http_fixtures import FileServer

pytestmark = pytest.mark.asyncio


def _by_name(outcomes: list[CheckOutcome]) -> dict[str, CheckOutcome]:
    return {o.name: o for o in outcomes}


def _assert_actionable(outcomes: list[CheckOutcome]) -> None:
    for outcome in outcomes:
        if outcome.verdict != "ok":
            assert outcome.advice.endswith("."), outcome


def _paths_of(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.setenv("BBJ_CODER_HOME", str(home))
    return app_paths()


# ------------------------------------------------------------------ whole runs
async def test_with_the_daemon_down_every_check_says_what_to_do(home: AppPaths) -> None:
    heard: list[CheckOutcome] = []
    outcomes = await run_doctor(home, on_outcome=heard.append)
    assert [o.name for o in outcomes] == list(CHECK_NAMES)
    assert sorted(heard, key=outcomes.index) == outcomes
    by = _by_name(outcomes)
    assert by["Daemon"].verdict == "fail" and "bbj-coder serve" in by["Daemon"].advice
    assert by["Backend"].verdict == by["Latency"].verdict == "skip"
    assert by["Model"].verdict == "fail" and by["Model"].summary == "no model is installed"
    assert by["Config"].verdict == "ok"
    assert by["Compiler check"].verdict == "warn"
    assert by["Ollama"].verdict == "warn"
    assert by["Continue.dev"].verdict == "warn"
    _assert_actionable(outcomes)


async def test_with_the_daemon_up(
    daemon: RunningDaemon, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = _paths_of(daemon.home, monkeypatch)
    continue_dir = tmp_path / "continue"
    continue_dir.mkdir()
    (continue_dir / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "models": [
                    {
                        "name": "bbj",
                        "provider": "openai",
                        "apiBase": f"{daemon.url}/v1",
                        "apiKey": daemon.token,
                    }
                ]
            }
        )
    )
    by = _by_name(await run_doctor(paths, settings=DoctorSettings(slow_after_ms=60_000)))
    pid = daemon.process.pid
    assert by["Daemon"].verdict == "ok"
    assert re.fullmatch(
        rf"running at {re.escape(daemon.url)} \(pid {pid}\), version \S+, up \d+ (s|min)",
        by["Daemon"].summary,
    )
    assert by["Backend"].verdict == "ok" and by["Backend"].summary.startswith("llama: ")
    assert by["Model"].verdict == "ok" and "outside the model store" in by["Model"].summary
    assert by["Continue.dev"].verdict == "ok", by["Continue.dev"]
    latency = by["Latency"]
    assert latency.verdict == "ok", latency
    assert re.fullmatch(
        r"healthy: (first token \d+ ms, )?total \d+ ms, \d+ tokens at \d+/s", latency.summary
    )


async def test_a_daemon_serving_a_truncated_model(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_model.gguf_path.read_bytes()[:100_000])
    running = start_daemon(tmp_path / "broken-home", "--model", str(truncated))
    try:
        paths = _paths_of(running.home, monkeypatch)
        by = _by_name(await run_doctor(paths))
    finally:
        running.stop()
    daemon = by["Daemon"]
    assert daemon.verdict == "warn" and daemon.summary.endswith("but degraded"), daemon
    assert by["Backend"].verdict == "fail"
    model = by["Model"]
    assert model.verdict == "fail"
    assert model.summary.startswith("the daemon cannot use its model:")
    assert "import" in model.advice
    assert by["Latency"].verdict == "skip"


async def test_a_damaged_model_in_the_store(home: AppPaths, tiny_model: TinyModel) -> None:
    store = ModelStore(home.models_dir)
    entry = store.import_file(tiny_model.gguf_path, name="tiny")
    path = store.path_of(entry)
    flipped = bytearray(path.read_bytes())
    flipped[-1] ^= 0xFF
    path.write_bytes(bytes(flipped))
    model = _by_name(await run_doctor(home))["Model"]
    assert model.verdict == "fail" and "changed since it was imported" in model.summary
    path.write_bytes(bytes(flipped[:1000]))
    model = _by_name(await run_doctor(home))["Model"]
    assert model.verdict == "fail" and "(truncated or replaced)" in model.summary
    path.unlink()
    model = _by_name(await run_doctor(home))["Model"]
    assert model.verdict == "fail" and "is missing" in model.summary


async def test_a_healthy_store_model_is_verified(home: AppPaths, tiny_model: TinyModel) -> None:
    ModelStore(home.models_dir).import_file(tiny_model.gguf_path, name="tiny")
    model = _by_name(await run_doctor(home))["Model"]
    assert model == CheckOutcome("Model", "ok", "tiny (F16, 3.8 MB, context 8192), sha256 verified")


async def test_a_broken_config_is_reported_and_defaults_are_used(home: AppPaths) -> None:
    home.config_file.write_text("[nope]\nx = 1\n")
    by = _by_name(await run_doctor(home))
    assert by["Config"].verdict == "fail" and "unknown section [nope]" in by["Config"].summary
    assert by["Compiler check"].verdict == "warn"


async def test_a_crashing_check_becomes_a_failed_outcome(
    home: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(ctx: DoctorContext) -> CheckOutcome:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "check_gpu", explode)
    gpu = _by_name(await run_doctor(home))["GPU"]
    assert gpu.verdict == "fail" and gpu.summary == "the check itself failed: RuntimeError: boom"


# ------------------------------------------------------------------- compiler
async def _compiler(home: AppPaths) -> CheckOutcome:
    return await check_compiler(await gather_context(home, DoctorSettings()))


async def test_bbjcpl_from_the_config_file_is_probed(home: AppPaths, tmp_path: Path) -> None:
    fake = install_fake_bbjcpl(tmp_path / "bbj" / "bin")
    home.config_file.write_text(f'[check]\nbbjcpl = "{fake}"\n')
    outcome = await _compiler(home)
    assert outcome == CheckOutcome(
        "Compiler check", "ok", f"bbjcpl at {fake}: the probe programs compiled as expected"
    )


async def test_bbjcpl_from_the_environment_is_probed(
    home: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_fake_bbjcpl(tmp_path / "bbj" / "bin")
    monkeypatch.setenv("BBJ_CODER_CHECK_BBJCPL", str(fake))
    assert (await _compiler(home)).verdict == "ok"


async def test_a_failing_bbjcpl_is_a_failure(
    home: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BBJ_CODER_CHECK_BBJCPL", str(install_fake_bbjcpl(tmp_path / "b")))
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "fatal")
    outcome = await _compiler(home)
    assert outcome.verdict == "fail" and outcome.summary.startswith("bbjcpl failed:")
    assert "bbjcpl -N" in outcome.advice


async def test_a_program_that_passes_everything_is_not_taken_for_bbjcpl(
    home: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    impostor = tmp_path / "bbjcpl"
    impostor.write_text("#!/bin/sh\nexit 0\n")
    impostor.chmod(0o755)
    monkeypatch.setenv("BBJ_CODER_CHECK_BBJCPL", str(impostor))
    outcome = await _compiler(home)
    assert outcome.verdict == "fail"
    assert "(a correct program passed, a broken one passed)" in outcome.summary


async def test_without_bbjcpl_the_builtin_checker_is_a_warning(home: AppPaths) -> None:
    outcome = await _compiler(home)
    assert outcome.verdict == "warn" and "built-in checker is in use" in outcome.summary


async def test_choosing_the_builtin_checker_is_fine(
    home: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BBJ_CODER_CHECK_CHECKER", "builtin")
    assert (await _compiler(home)).verdict == "ok"


async def test_forcing_a_missing_bbjcpl_fails(
    home: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BBJ_CODER_CHECK_CHECKER", "bbjcpl")
    monkeypatch.setenv("BBJ_CODER_CHECK_BBJCPL", str(tmp_path / "nowhere" / "bbjcpl"))
    assert (await _compiler(home)).verdict == "fail"


# ------------------------------------------------------------------------ GPU
@pytest.mark.parametrize(
    ("supported", "layers", "verdict", "words"),
    [
        (None, "0", "warn", "llama-cpp-python is not installed"),
        (True, "0", "warn", "model.n_gpu_layers is 0"),
        (True, "-1", "ok", "all layers offloaded"),
        (True, "20", "ok", "20 layers offloaded"),
        (False, "0", "ok", "CPU only"),
        (False, "20", "warn", "has no GPU support"),
    ],
)
async def test_gpu_verdicts(
    home: AppPaths,
    monkeypatch: pytest.MonkeyPatch,
    supported: bool | None,
    layers: str,
    verdict: str,
    words: str,
) -> None:
    monkeypatch.setattr(machine_checks, "_gpu_offload_supported", lambda: supported)
    monkeypatch.setenv("BBJ_CODER_MODEL_N_GPU_LAYERS", layers)
    outcome = await check_gpu(await gather_context(home, DoctorSettings()))
    assert outcome.verdict == verdict and words in outcome.summary


async def test_gpu_support_is_read_from_llama_cpp() -> None:
    assert isinstance(machine_checks._gpu_offload_supported(), bool)


# --------------------------------------------------------------------- Ollama
async def test_ollama_answering_and_absent(file_server: FileServer) -> None:
    file_server.json_routes["/api/version"] = {"version": "0.9.1"}
    url = f"http://127.0.0.1:{file_server.port}"
    assert await check_ollama(url) == CheckOutcome(
        "Ollama", "ok", f"Ollama 0.9.1 answers at {url} (fallback backend)"
    )
    absent = await check_ollama(f"http://127.0.0.1:{free_port()}")
    assert absent.verdict == "warn" and "fallback" in absent.advice


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("https://gpu-box:9000/", "https://gpu-box:9000"),
    ],
)
async def test_ollama_url_follows_ollama_host(
    monkeypatch: pytest.MonkeyPatch, host: str, url: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", host)
    assert ollama_url() == url


# ------------------------------------------------------------------- Continue
def _context(home: AppPaths, **changes: object) -> DoctorContext:
    base = DoctorContext(
        paths=home,
        config=Config(),
        config_outcome=CheckOutcome("Config", "ok", "defaults"),
        state=None,
        url="http://127.0.0.1:11435",
        token="secret",
    )
    return replace(base, **changes)


def _write_yaml(folder: Path, *models: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump({"models": list(models)}))


OPENAI = {"provider": "openai", "apiBase": "http://127.0.0.1:11435/v1", "apiKey": "secret"}
OLLAMA = {
    "provider": "ollama",
    "apiBase": "http://localhost:11435",
    "requestOptions": {"headers": {"Authorization": "Bearer secret"}},
}


@pytest.mark.parametrize(
    ("models", "verdict", "words"),
    [
        ([OPENAI], "ok", "1 model points at bbj-coder (openai)"),
        ([OPENAI, OLLAMA], "ok", "2 models point at bbj-coder (ollama, openai)"),
        ([{**OPENAI, "apiKey": "old"}], "fail", "wrong or missing token"),
        ([{**OLLAMA, "requestOptions": {}}], "fail", "wrong or missing token"),
        ([{**OPENAI, "apiBase": "http://127.0.0.1:11434/v1"}], "warn", "has no model at"),
        ([{"provider": "anthropic"}], "warn", "has no model at"),
    ],
)
async def test_continue_yaml(
    home: AppPaths, tmp_path: Path, models: list[dict], verdict: str, words: str
) -> None:
    _write_yaml(tmp_path / "c", *models)
    outcome = check_continue(_context(home), tmp_path / "c")
    assert outcome.verdict == verdict and words in outcome.summary
    if verdict != "ok":
        assert "bbj-coder continue install" in outcome.advice


async def test_continue_json_tab_autocomplete_model_counts(home: AppPaths, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"models": [], "tabAutocompleteModel": OLLAMA}))
    assert check_continue(_context(home), folder).verdict == "ok"


async def test_continue_missing_or_unreadable(home: AppPaths, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    missing = check_continue(_context(home), folder)
    assert missing.verdict == "warn" and missing.summary == "no Continue config found"
    folder.mkdir()
    (folder / "config.yaml").write_text("models: [\n")
    broken = check_continue(_context(home), folder)
    assert broken.verdict == "fail" and "cannot be read" in broken.summary


# -------------------------------------------------------------------- latency
async def test_latency_verdicts_follow_the_threshold() -> None:
    settings = DoctorSettings(slow_after_ms=500)
    timings = {"completion_tokens": 8, "first_token_ms": 120.0}
    fast = daemon_checks._latency_outcome(timings, 0.4, settings)
    assert fast == CheckOutcome(
        "Latency", "ok", "healthy: first token 120 ms, total 400 ms, 8 tokens at 20/s"
    )
    slow = daemon_checks._latency_outcome({"completion_tokens": 8}, 2.0, settings)
    assert slow.verdict == "warn" and slow.summary == "slow: total 2000 ms, 8 tokens at 4/s"
    assert "n_gpu_layers" in slow.advice


async def test_latency_probe_failures(home: AppPaths) -> None:
    health = {"backend": {"name": "llama"}, "fim": {"available": True}}
    gone = _context(home, health=health, url=f"http://127.0.0.1:{free_port()}")
    failed = await check_latency(gone, DoctorSettings())
    assert failed.verdict == "fail" and failed.summary.startswith("a probe completion failed")
    no_fim = _context(home, health={**health, "fim": {"available": False}})
    assert (await check_latency(no_fim, DoctorSettings())).verdict == "warn"
    broken = _context(home, health={**health, "model_error": "corrupt"})
    assert (await check_latency(broken, DoctorSettings())).verdict == "skip"


# ----------------------------------------------------------------- hash cache
async def test_hash_cache_hashes_once_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = model_checks.sha256_file

    def counting(path: Path, progress: object = None) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(model_checks, "sha256_file", counting)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"one")
    cache_file = tmp_path / "cache" / "sha.json"
    first = await HashCache(cache_file).sha256(model)
    assert await HashCache(cache_file).sha256(model) == first
    assert len(calls) == 1, "a second run reads the persisted digest"
    model.write_bytes(b"two, longer")
    assert await HashCache(cache_file).sha256(model) != first
    assert len(calls) == 2


async def test_outcomes_must_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="must say what to do"):
        CheckOutcome("X", "fail", "broken")
    with pytest.raises(ValueError, match="unknown verdict"):
        CheckOutcome("X", "maybe", "hm", "do")  # type: ignore[arg-type]


async def test_a_bbjcpl_the_daemon_rests_is_a_warning(home: AppPaths) -> None:
    from dataclasses import replace

    ctx = await gather_context(home, DoctorSettings())
    served = (
        "built-in checker while bbjcpl at /x/bbjcpl is unhealthy (bbjcpl did not finish "
        "within 10 s and was stopped); bbjcpl is retried in 55 s"
    )
    outcome = await check_compiler(replace(ctx, health={"checker": served}))
    assert outcome.verdict == "warn" and "unhealthy" in outcome.summary


async def test_a_store_model_with_a_broken_chat_template_is_ok_because_it_is_never_compiled(
    home: AppPaths, tiny_model: TinyModel, tmp_path: Path
) -> None:
    from tests.support.gguf_edit import with_string_metadata

    broken = with_string_metadata(
        tiny_model.gguf_path, tmp_path / "badtpl.gguf", "tokenizer.chat_template", "{% if %}x"
    )
    ModelStore(home.models_dir).import_file(broken, name="badtpl")
    model = _by_name(await run_doctor(home))["Model"]
    assert model.verdict == "ok", model


async def test_with_the_daemon_down_doctor_expects_the_configured_port(
    home: AppPaths, tmp_path: Path
) -> None:
    """Issue #17 item 20: doctor and `continue install` agree on the address (the config's)."""
    home.config_dir.mkdir(parents=True, exist_ok=True)
    home.config_file.write_text("[server]\nport = 12077\n")
    context = await gather_context(home, DoctorSettings())
    assert context.url == "http://127.0.0.1:12077"
    _write_yaml(tmp_path / "c", {**OPENAI, "apiBase": "http://127.0.0.1:12077/v1"})
    outcome = check_continue(replace(context, token=None), tmp_path / "c")
    assert outcome.verdict == "ok", outcome


async def test_continue_points_at_the_daemon_through_any_loopback_name() -> None:
    from daemon.setup.doctor._continue import _points_at

    daemon_url = "http://127.0.0.1:8765"
    for base in ("http://127.0.0.2:8765/v1", "http://LOCALHOST:8765/v1", "http://[::1]:8765/v1"):
        assert _points_at({"apiBase": base}, daemon_url), base
    assert not _points_at({"apiBase": "http://10.0.0.5:8765/v1"}, daemon_url)
    assert not _points_at({"apiBase": "http://127.0.0.1:9999/v1"}, daemon_url)
