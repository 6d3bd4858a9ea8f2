"""The air-gapped proof: build a bundle here, install and run it with no network at all.

``unshare -n`` gives a network namespace with nothing in it (DESIGN §8); ``ip link set lo up``
brings loopback back so the daemon can serve on 127.0.0.1. The installer, the daemon, a FIM
completion over HTTP and ``bbj-coder doctor`` all run in there. The bundle is built once per
session (building the wheelhouse needs PyPI; pip's cache makes repeat runs fast).

The tests of ``TestInstalled`` share one installation and run in file order: the last one
uninstalls it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from daemon.models.tinymodel import TinyModel
from daemon.setup.bundle.build import bundle_build_command, llama_version, source_root
from daemon.setup.bundle.wheels import BundleError, find_llama_wheel, resolve_target, wheel_caches
from tests.conftest import free_port

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
MODEL = "bbj-coder-tiny.f16"


def sandbox_problem() -> str | None:
    if shutil.which("unshare", path=PATH) is None or shutil.which("ip", path=PATH) is None:
        return "unshare or ip is not installed, so the network cannot be dropped here"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"this sandbox cannot drop the network (unshare -n: {probe.stderr.strip()})"
    try:
        find_llama_wheel(llama_version(source_root()), resolve_target(None, None), wheel_caches())
    except BundleError:
        return "no cached llama-cpp-python wheel: run installers/dev-setup.sh first"
    return None


def base_python() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return str(Path(sys.base_prefix) / "bin" / f"python{version}")


def in_netns(
    command: list[str], env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    wrapper = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
    return subprocess.run(
        [*wrapper, *command], env=env, capture_output=True, text=True, timeout=timeout
    )


def processes_under(folder: Path) -> list[int]:
    """Live processes whose command line mentions ``folder`` (nothing may be left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if str(folder).encode() in cmdline:
                found.append(int(entry.name))
    return found


@dataclass
class Machine:
    """A pretend user account: its HOME, bbj-coder's data and the install prefix."""

    root: Path
    port: int

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "bbj-data"

    @property
    def prefix(self) -> Path:
        return self.root / "prefix"

    @property
    def continue_config(self) -> Path:
        return self.home / ".continue" / "config.yaml"

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": PATH,
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "BBJ_CODER_HOME": str(self.data),
            "BBJ_CODER_PREFIX": str(self.prefix),
            "BBJ_CODER_SERVER_PORT": str(self.port),
            "PYTHON": base_python(),
        }

    def install(
        self, bundle: Path, *args: str, start: bool = False
    ) -> subprocess.CompletedProcess[str]:
        options = ["--no-service"] if start else ["--no-service", "--no-start"]
        return in_netns(["bash", str(bundle / "install.sh"), *options, *args], self.env)

    def token(self) -> str:
        return (self.data / "config" / "token").read_text().strip()


@pytest.fixture(scope="session")
def bundle(tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    problem = sandbox_problem()
    if problem:
        pytest.skip(problem)
    out = tmp_path_factory.mktemp("bundle-out")
    assert bundle_build_command(out, [tiny_model.gguf_path], None, None) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def new_machine(root: Path) -> Machine:
    machine = Machine(root, free_port())
    machine.continue_config.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "with_other_models.yaml", machine.continue_config)
    return machine


@dataclass
class Installed:
    machine: Machine
    bundle: Path
    output: str


@pytest.fixture(scope="module")
def installed(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    machine = new_machine(tmp_path_factory.mktemp("machine"))
    result = machine.install(bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    return Installed(machine, bundle, result.stdout)


def test_the_bundle_holds_everything_with_checksums(bundle: Path) -> None:
    info = json.loads((bundle / "bundle.json").read_text())
    assert info["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = {p.name.split("-")[0] for p in (bundle / "wheelhouse").glob("*.whl")}
    assert {"bbj_coder", "llama_cpp_python", "numpy", "uvicorn", "starlette", "pyyaml"} <= wheels
    assert not list((bundle / "wheelhouse").glob("*.tar.gz"))  # wheels only, nothing to build
    for name in ("install.sh", "install.ps1", "uninstall.sh", "uninstall.ps1", "INSTALL.txt"):
        assert (bundle / name).is_file(), name
    assert (bundle / "service" / "bbj-coder.service").is_file()
    assert (bundle / "continue-config" / "config.ollama.yaml").is_file()
    manifest = json.loads((bundle / "models" / "manifest.json").read_text())
    assert manifest["default"] == MODEL
    listed = {line.split("  ", 1)[1] for line in (bundle / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS"}
    check = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=bundle)
    assert check.returncode == 0
    with tarfile.open(bundle.with_name(bundle.name + ".tar.gz")) as archive:
        names = set(archive.getnames())
    assert {f"{bundle.name}/{name}" for name in on_disk} <= names


@pytest.mark.parametrize(
    ("target", "damage", "problem"),
    [
        ("wheelhouse/bbj_coder-*.whl", "flip", "changed"),
        (f"models/{MODEL}.gguf", "flip", "changed"),
        ("wheelhouse/numpy-*.whl", "delete", "missing"),
    ],
)
def test_a_damaged_bundle_is_refused_before_anything_is_installed(
    bundle: Path, tmp_path: Path, target: str, damage: str, problem: str
) -> None:
    copy = tmp_path / bundle.name
    shutil.copytree(bundle, copy, copy_function=os.link)  # cheap; damaged files are rewritten
    (victim,) = copy.glob(target)
    data = bytearray(victim.read_bytes())
    victim.unlink()  # never write through the hard link into the shared bundle
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
    machine = new_machine(tmp_path / "machine")
    original = machine.continue_config.read_bytes()

    result = machine.install(copy)

    assert result.returncode == 1
    relative = victim.relative_to(copy).as_posix()
    assert f"{relative} ({problem})" in result.stderr
    assert "Nothing was installed" in result.stderr
    assert not machine.prefix.exists() and not machine.data.exists()
    assert not (machine.home / ".local").exists()
    assert machine.continue_config.read_bytes() == original


class TestInstalled:
    def test_it_installs_and_serves_completions_with_no_network(self, installed: Installed) -> None:
        machine = installed.machine
        for line in (
            "files match SHA256SUMS",
            "environment created",
            "bbj-coder 0.1.0 installed",
            f"model imported: {MODEL}",
            f"active model: {MODEL}",
            "token created",
            "Continue.dev points at bbj-coder (ollama)",
            "service not registered (--no-service)",
        ):
            assert line in installed.output, line
        python = str(machine.prefix / "venv" / "bin" / "python")
        result_file = machine.root / "offline-check.json"
        command = [python, str(HERE / "offline_check.py"), str(machine.prefix)]

        run = in_netns([*command, str(machine.port), str(result_file)], machine.env, timeout=180)

        assert run.returncode == 0, run.stdout + run.stderr
        check = json.loads(result_file.read_text())
        assert check["network_reachable"] is False
        assert check["health"]["model"]["name"] == MODEL
        assert check["fim"]["done"] is True and isinstance(check["fim"]["response"], str)
        assert check["fim"]["eval_count"] >= 1
        verdicts = {c["name"]: c["verdict"] for c in check["doctor"]["checks"]}
        assert check["doctor_rc"] == 0, check["doctor"]
        assert verdicts["Daemon"] == verdicts["Model"] == verdicts["Continue.dev"] == "ok"
        assert processes_under(machine.prefix) == []

    def test_running_it_again_changes_nothing(self, installed: Installed) -> None:
        machine = installed.machine
        venv_python = machine.prefix / "venv" / "bin" / "python"
        watched = [
            machine.prefix / "venv" / "pyvenv.cfg",
            machine.data / "config" / "token",
            machine.data / "config" / "config.toml",
            machine.data / "models" / "manifest.json",
            machine.continue_config,
        ]
        before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in watched]
        inode = venv_python.stat().st_ino

        result = machine.install(installed.bundle)

        assert result.returncode == 0, result.stdout + result.stderr
        for line in (
            "environment kept",
            "bbj-coder 0.1.0 already installed",
            "token kept",
            "config kept",
            f"model already installed: {MODEL}",
            f"active model kept: {MODEL}",
            "already up to date",
        ):
            assert line in result.stdout + result.stderr, line
        assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in watched] == before
        assert venv_python.stat().st_ino == inode

    def test_without_a_service_it_starts_the_daemon_and_checks_it(
        self, installed: Installed
    ) -> None:
        """Issue #17 item 21: no systemd user session or --no-service still ends running."""
        machine = installed.machine
        bbj = str(machine.prefix / "venv" / "bin" / "bbj-coder")
        try:
            result = machine.install(installed.bundle, start=True)

            assert result.returncode == 0, result.stdout + result.stderr
            assert "daemon started in the background: bbj-coder started at" in result.stdout
            assert "health check passed" in result.stdout
            assert "RuntimeDirWarning" not in result.stdout + result.stderr
            status = in_netns([bbj, "status", "--json"], machine.env)
            assert json.loads(status.stdout)["running"] is True
        finally:
            stopped = in_netns([bbj, "stop"], machine.env)
        assert "Stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        assert processes_under(machine.prefix) == []

    def test_uninstall_removes_it_all_but_the_models_until_asked(
        self, installed: Installed
    ) -> None:
        machine = installed.machine
        uninstall = ["bash", str(machine.prefix / "uninstall.sh")]
        # The copy left in the prefix finds its environment without being told where it is.
        env = {k: v for k, v in machine.env.items() if k != "BBJ_CODER_PREFIX"}
        token = machine.token()

        result = in_netns(uninstall, env)

        assert result.returncode == 0, result.stdout + result.stderr
        assert not machine.prefix.exists()
        assert not (machine.home / ".local" / "bin" / "bbj-coder").exists()
        assert not (machine.home / ".config" / "systemd" / "user" / "bbj-coder.service").exists()
        assert (
            machine.continue_config.read_bytes()
            == (FIXTURES / "with_other_models.yaml").read_bytes()
        )
        assert (machine.data / "models" / f"{MODEL}.gguf").is_file()
        assert "models kept" in result.stdout
        assert not (machine.data / "run").exists(), "the runtime lock goes with the daemon"
        assert processes_under(machine.prefix) == []
        for file in (machine.home / ".continue").iterdir():
            assert token not in file.read_text(), f"{file} keeps the token"

        reinstall = machine.install(installed.bundle)
        assert reinstall.returncode == 0, reinstall.stdout + reinstall.stderr
        assert f"model already installed: {MODEL}" in reinstall.stdout  # kept, not re-copied
        assert in_netns(uninstall, env).returncode == 0

        # The bundle's copy, with no environment left to ask, finds the models where they are.
        from_bundle = ["bash", str(installed.bundle / "uninstall.sh")]
        result = in_netns([*from_bundle, "--remove-models"], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not (machine.data / "models").exists()
        assert (machine.data / "config" / "token").is_file()  # config and token stay
        assert yaml.safe_load(machine.continue_config.read_text())["models"][0]["name"] == "Claude"

        result = in_netns([*from_bundle, "--purge"], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not machine.data.exists(), sorted(machine.data.rglob("*"))
        assert yaml.safe_load(machine.continue_config.read_text())["models"][0]["name"] == "Claude"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_the_user_service_is_registered_started_and_removed(bundle: Path, tmp_path: Path) -> None:
    """The systemd path, with a stand-in systemctl (no systemd user session exists here)."""
    machine = new_machine(tmp_path / "machine")
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir()
    shutil.copy(HERE / "fake_systemctl.sh", fake)
    fake.chmod(0o755)
    state = tmp_path / "systemd-state"
    env = {**machine.env, "PATH": f"{fake.parent}:{PATH}", "FAKE_SYSTEMCTL_DIR": str(state)}
    del env["BBJ_CODER_SERVER_PORT"]  # the service uses the config's port, free in the namespace
    unit = machine.home / ".config" / "systemd" / "user" / "bbj-coder.service"
    try:
        result = in_netns(["bash", str(bundle / "install.sh")], env)

        assert result.returncode == 0, result.stdout + result.stderr
        assert f"service: systemd user unit {unit} (enabled, started)" in result.stdout
        assert "health check passed" in result.stdout
        assert f'Environment="BBJ_CODER_HOME={machine.data}"' in unit.read_text()
        calls = (state / "calls").read_text().splitlines()
        assert calls[1:] == [
            "--user daemon-reload",
            "--user enable bbj-coder.service",
            "--user restart bbj-coder.service",  # new unit and new program: (re)start
        ]
        pid = int((state / "bbj-coder.service.pid").read_text())
        assert pid_alive(pid)

        removed = in_netns(["bash", str(machine.prefix / "uninstall.sh")], env)

        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert f"service removed: {unit}" in removed.stdout
        assert not unit.exists()
        assert "--user disable --now bbj-coder.service" in (state / "calls").read_text()
        assert not pid_alive(pid)
    finally:
        for leftover in processes_under(machine.prefix):
            os.kill(leftover, 9)
    assert processes_under(machine.prefix) == []


def other_python() -> tuple[str, str] | None:
    """(version, interpreter) of a CPython other than this one: pyenv's or the system's."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    for version in ("3.12", "3.11", "3.13", "3.10"):
        pyenv = sorted(Path(sys.base_prefix).parent.glob(f"{version}.*/bin/python{version}"))
        candidates = [*pyenv, Path(f"/usr/bin/python{version}")]
        found = next((c for c in candidates if c.is_file()), None)
        if version != here and found is not None:
            return version, str(found)
    return None


def test_a_bundle_for_another_python_is_fetched_as_wheels_and_installs_offline(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    """The cross-platform path: ``pip download --platform … --python-version …``."""
    problem, other = sandbox_problem(), other_python()
    if problem or other is None:
        pytest.skip(problem or "no second CPython version is installed here")
    version, interpreter = other
    out = tmp_path / "out"
    assert bundle_build_command(out, [tiny_model.gguf_path], None, version) == 0
    (bundle,) = [p for p in out.iterdir() if p.is_dir()]
    machine = new_machine(tmp_path / "machine")

    refused = machine.install(bundle)  # this Python is the wrong version for the bundle
    assert refused.returncode == 1 and f"built for Python {version}" in refused.stderr
    assert not machine.prefix.exists()

    env = {**machine.env, "PYTHON": interpreter}
    result = in_netns(["bash", str(bundle / "install.sh"), "--no-service", "--no-start"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    probe = [str(machine.prefix / "venv" / "bin" / "python"), "-c", "import llama_cpp, daemon"]
    assert subprocess.run(probe, env=env).returncode == 0
