"""The bundle builder's parts that need no PyPI: targets, wheels, models, sums, install setup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from daemon.files import sha256_file
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel
from daemon.setup.bundle.build import bundle_build_command, bundle_setup_command
from daemon.setup.bundle.files import add_models, write_sums
from daemon.setup.bundle.install_step import setup_from_bundle
from daemon.setup.bundle.wheels import (
    BundleError,
    find_llama_wheel,
    host_name,
    missing_requirements,
    resolve_target,
    wheel_caches,
)

WINDOWS = {
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "python_version": "3.11",
}
LINUX = {**WINDOWS, "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


def fake_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata + "\nDescription\n")
    return path


def test_targets_name_this_machine_or_a_known_platform() -> None:
    assert resolve_target(None, None).native
    windows = resolve_target("windows-amd64", "3.12")
    assert windows.pip_platforms == ("win_amd64",) and windows.python == "3.12"
    assert windows.markers["platform_system"] == "Windows"
    assert resolve_target("manylinux_2_28_aarch64", None).markers["platform_machine"] == "aarch64"
    assert resolve_target(host_name(), None).native
    with pytest.raises(BundleError, match="Unknown platform 'solaris-sparc'"):
        resolve_target("solaris-sparc", None)
    with pytest.raises(BundleError, match=r"look like 3\.11"):
        resolve_target(None, "three")


def test_markers_pip_misses_for_another_platform_are_found(tmp_path: Path) -> None:
    wheels = [
        fake_wheel(
            tmp_path,
            "bbj_coder",
            "0.1.0",
            ["click>=8", "uvicorn[standard]>=0.30", 'tomli>=2; python_version < "3.11"'],
        ),
        fake_wheel(tmp_path, "click", "8.1.0", ['colorama; platform_system == "Windows"']),
        fake_wheel(tmp_path, "uvicorn", "0.30.0", ['httptools>=0.5; extra == "standard"']),
    ]

    assert missing_requirements(wheels, WINDOWS) == ["colorama", "httptools>=0.5"]
    assert missing_requirements(wheels, LINUX) == ["httptools>=0.5"]
    assert "tomli>=2" in missing_requirements(wheels, {**LINUX, "python_version": "3.10"})
    wheels.append(fake_wheel(tmp_path, "httptools", "0.6.0", []))
    assert missing_requirements(wheels, LINUX) == []


def test_the_llama_wheel_is_found_only_for_its_own_platform(tmp_path: Path) -> None:
    wheel = tmp_path / "llama_cpp_python-0.3.36-py3-none-win_amd64.whl"
    wheel.write_bytes(b"")

    assert find_llama_wheel("0.3.36", resolve_target("windows-amd64", "3.11"), [tmp_path]) == wheel
    with pytest.raises(BundleError, match="published as source only"):
        find_llama_wheel("0.3.36", resolve_target("macos-arm64", "3.11"), [tmp_path])


def test_a_bundle_for_another_os_without_its_llama_wheel_is_refused_up_front(
    tmp_path: Path,
    tiny_model: TinyModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BBJ_CODER_WHEELHOUSE", str(tmp_path / "empty"))
    out = tmp_path / "out"

    assert bundle_build_command(out, [tiny_model.gguf_path], "windows-amd64", "3.11") == 2

    err = capsys.readouterr().err
    assert "No llama-cpp-python 0.3.36 wheel for windows-amd64" in err
    assert "must be built on windows-amd64" in err and "BBJ_CODER_WHEELHOUSE" in err
    assert list(out.iterdir()) == []


def test_models_are_copied_with_a_manifest(tmp_path: Path, tiny_model: TinyModel) -> None:
    entries = add_models([tiny_model.gguf_path], tmp_path / "models")

    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert manifest["default"] == "bbj-coder-tiny.f16"
    (model,) = manifest["models"]
    assert model == {
        "name": "bbj-coder-tiny.f16",
        "file": "bbj-coder-tiny.f16.gguf",
        "size": tiny_model.gguf_path.stat().st_size,
        "sha256": sha256_file(tiny_model.gguf_path),
        "quant": "F16",
        "context_length": 8192,
        "fim_format": "qwen2.5-coder",
    }
    assert entries[0].sha256 == model["sha256"]
    with pytest.raises(BundleError, match="does not exist"):
        add_models([tmp_path / "nope.gguf"], tmp_path / "other")


def test_sha256sums_uses_sha256sums_own_format(tmp_path: Path) -> None:
    (tmp_path / "wheelhouse").mkdir()
    (tmp_path / "wheelhouse" / "a.whl").write_bytes(b"wheel")
    (tmp_path / "install.sh").write_text("echo hi\n")

    assert write_sums(tmp_path, {}) == 2

    lines = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == ["install.sh", "wheelhouse/a.whl"]
    if shutil.which("sha256sum"):
        check = ["sha256sum", "--check", "--strict", "SHA256SUMS"]
        result = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def bbj_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("BBJ_CODER_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "bbj-home"
    monkeypatch.setenv("BBJ_CODER_HOME", str(home))
    return home


def make_bundle(folder: Path, models: list[Path]) -> Path:
    add_models(models, folder / "models")
    return folder


def test_setup_imports_once_and_keeps_token_config_and_choice(
    tmp_path: Path, tiny_model: TinyModel, bbj_home: Path
) -> None:
    bundle = make_bundle(tmp_path / "bundle", [tiny_model.gguf_path])

    first = setup_from_bundle(bundle)

    assert first[0].startswith("token created") and first[1].startswith("config written")
    assert "model imported: bbj-coder-tiny.f16" in first[2]
    store = ModelStore(bbj_home / "models")
    assert store.load().active == "bbj-coder-tiny.f16"
    manifest, token = store.manifest_path.read_bytes(), (bbj_home / "config" / "token").read_text()
    other = tmp_path / "mine.gguf"
    shutil.copy(tiny_model.gguf_path, other)
    store.import_file(other, name="mine")  # the user picks their own model

    second = setup_from_bundle(bundle)

    assert second[:3] == [
        f"token kept: {bbj_home / 'config' / 'token'} (mode 0600)",
        f"config kept: {bbj_home / 'config' / 'config.toml'}",
        "model already installed: bbj-coder-tiny.f16",
    ]
    assert store.load().active == "mine"
    before = {m["name"]: m for m in json.loads(manifest)["models"]}
    after = {m["name"]: m for m in json.loads(store.manifest_path.read_bytes())["models"]}
    assert after["bbj-coder-tiny.f16"] == before["bbj-coder-tiny.f16"]  # not imported again
    assert (bbj_home / "config" / "token").read_text() == token


def test_a_new_default_model_in_an_upgrade_becomes_active(
    tmp_path: Path, tiny_model: TinyModel, bbj_home: Path
) -> None:
    setup_from_bundle(make_bundle(tmp_path / "v1", [tiny_model.gguf_path]))
    newer = tmp_path / "bbj-coder-v2.gguf"
    shutil.copy(tiny_model.gguf_path, newer)

    lines = setup_from_bundle(make_bundle(tmp_path / "v2", [newer, tiny_model.gguf_path]))

    assert "model imported: bbj-coder-v2" in lines[2]
    assert lines[3] == "model already installed: bbj-coder-tiny.f16"
    assert ModelStore(bbj_home / "models").load().active == "bbj-coder-v2"


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ('{"models": [{"name": "m", "file": "m.gguf"}]}', "lacks a model's name, file or sha256"),
    ],
)
def test_setup_refuses_a_damaged_bundle_with_a_sentence(
    tmp_path: Path, bbj_home: Path, capsys: pytest.CaptureFixture[str], manifest: str, problem: str
) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / "manifest.json").write_text(manifest, encoding="utf-8")

    assert bundle_setup_command(bundle) == 2

    err = capsys.readouterr().err
    assert err.startswith("bbj-coder: The bundle's model list ") and problem in err
    assert "Traceback" not in err


def test_setup_says_what_the_system_said_when_a_file_cannot_be_written(
    tmp_path: Path, bbj_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bbj_home.mkdir()
    (bbj_home / "config").write_text("a file where the config folder belongs")

    assert bundle_setup_command(tmp_path) == 2

    assert "bbj-coder: [Errno" in capsys.readouterr().err


@pytest.mark.parametrize("content", [None, b"not a model"])
def test_a_bad_model_is_refused_before_anything_is_built(
    tmp_path: Path, content: bytes | None, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    out = tmp_path / "out"

    assert bundle_build_command(out, [model], None, None) == 2

    err = capsys.readouterr()
    assert "does not exist" in err.err or "is not a GGUF model file" in err.err
    assert "[1/5]" not in err.out  # refused before the wheelhouse step
    assert not out.exists()


def test_a_missing_wheel_for_this_machine_says_how_to_build_it_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BBJ_CODER_WHEELHOUSE", raising=False)
    caches = wheel_caches()
    assert caches[0] == tmp_path / "xdg" / "bbj-coder-ci" / "wheels"
    with pytest.raises(BundleError) as caught:
        find_llama_wheel("0.3.36", resolve_target(None, None), caches)
    message = str(caught.value)
    assert "itself" not in message, "it already runs on that platform"
    assert f"pip wheel --no-deps llama-cpp-python==0.3.36 -w {caches[0]}" in message
    assert "build the bundle again" in message
