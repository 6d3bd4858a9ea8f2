"""The bundle's wheelhouse: bbj-coder's own wheel and every runtime dependency, as wheels.

For this machine, ``pip wheel`` resolves and builds everything, reusing the llama-cpp-python
wheel built once by ``installers/dev-setup.sh`` (never rebuilding it). For another platform,
``pip download --only-binary=:all:`` fetches published wheels. llama-cpp-python publishes
source only, so its wheel must have been built on the target OS and put in the wheel cache;
without it the build stops with a message saying exactly that.
"""

from __future__ import annotations

import os
import platform as host_platform
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from daemon.errors import BbjCoderError

LLAMA = "llama-cpp-python"


class BundleError(BbjCoderError):
    """The bundle cannot be built; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """The platform and Python a bundle is for."""

    name: str
    python: str
    pip_platforms: tuple[str, ...] = ()
    """Empty for this machine (pip's own tags), else the tags passed to ``pip download``."""
    markers: dict[str, str] = field(default_factory=dict)
    """Marker values for the target (sys_platform, platform_system, os_name, machine)."""

    @property
    def native(self) -> bool:
        return not self.pip_platforms

    @property
    def python_tuple(self) -> tuple[int, int]:
        major, minor = self.python.split(".")[:2]
        return int(major), int(minor)


def _markers(system: str, machine: str) -> dict[str, str]:
    sys_platform = {"Windows": "win32", "Darwin": "darwin"}.get(system, "linux")
    os_name = "nt" if system == "Windows" else "posix"
    return {
        "sys_platform": sys_platform,
        "platform_system": system,
        "os_name": os_name,
        "platform_machine": machine,
    }


_ALIASES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "linux-x86_64": (
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"),
        _markers("Linux", "x86_64"),
    ),
    "linux-aarch64": (
        (
            "manylinux_2_28_aarch64",
            "manylinux_2_17_aarch64",
            "manylinux2014_aarch64",
            "linux_aarch64",
        ),
        _markers("Linux", "aarch64"),
    ),
    "macos-arm64": (("macosx_14_0_arm64", "macosx_14_0_universal2"), _markers("Darwin", "arm64")),
    "macos-x86_64": (
        ("macosx_13_0_x86_64", "macosx_13_0_universal2"),
        _markers("Darwin", "x86_64"),
    ),
    "windows-amd64": (("win_amd64",), _markers("Windows", "AMD64")),
}


def host_name() -> str:
    """This machine as a bundle platform name: linux-x86_64, macos-arm64, windows-amd64, …"""
    system, machine = host_platform.system(), host_platform.machine().lower()
    if system == "Windows":
        return "windows-amd64" if machine in ("amd64", "x86_64") else f"windows-{machine}"
    prefix = {"Darwin": "macos", "Linux": "linux"}.get(system, system.lower())
    if prefix == "linux" and machine == "arm64":
        machine = "aarch64"
    if prefix == "macos" and machine == "aarch64":
        machine = "arm64"
    return f"{prefix}-{machine}"


def _raw_target(platform: str, python: str) -> Target:
    """A target named by pip platform tags ("win_amd64" or "a,b"), not by an alias."""
    tags = tuple(tag.strip() for tag in platform.split(",") if tag.strip())
    first = tags[0]
    system = "Windows" if first.startswith("win") else "Darwin" if "macosx" in first else "Linux"
    machine = first.split("_")[-1]
    machine = "AMD64" if first == "win_amd64" else machine
    return Target(first, python, tags, _markers(system, machine))


def resolve_target(platform: str | None, python_version: str | None) -> Target:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = python_version or here
    if not _is_version(python):
        raise BundleError(f"--python-version must look like 3.11, not {python!r}.")
    name = (platform or host_name()).strip()
    if name == host_name() and python == here:
        return Target(name, python)
    if name in _ALIASES:
        tags, markers = _ALIASES[name]
        return Target(name, python, tags, markers)
    if not name or "-" in name:
        known = ", ".join(sorted(_ALIASES))
        raise BundleError(
            f"Unknown platform {name!r}: use one of {known}, or pip platform tags such as "
            "win_amd64 or manylinux_2_28_x86_64."
        )
    return _raw_target(name, python)


def _is_version(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 2 and all(part.isdigit() for part in parts)


# --- llama-cpp-python ---------------------------------------------------------------------


def wheel_caches() -> list[Path]:
    """Where built llama-cpp-python wheels are looked for: ``$BBJ_CODER_WHEELHOUSE``, then the
    cache ``installers/dev-setup.sh`` fills (under ``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    caches = []
    if os.environ.get("BBJ_CODER_WHEELHOUSE"):
        caches.append(Path(os.environ["BBJ_CODER_WHEELHOUSE"]).expanduser())
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        caches.append(Path(xdg).expanduser() / "bbj-coder-ci" / "wheels")
    caches.append(Path.home() / ".cache" / "bbj-coder-ci" / "wheels")
    return list(dict.fromkeys(caches))


def _target_tags(target: Target) -> set[str]:
    from packaging import tags

    if target.native:
        return {str(tag) for tag in tags.sys_tags()}
    version = target.python_tuple
    interpreter = f"cp{version[0]}{version[1]}"
    platforms = list(target.pip_platforms)
    found = tags.cpython_tags(version, platforms=platforms)
    compatible = tags.compatible_tags(version, interpreter, platforms)
    return {str(tag) for tag in [*found, *compatible]}


def find_llama_wheel(version: str, target: Target, caches: Iterable[Path]) -> Path:
    """The cached llama-cpp-python wheel for ``target``, or a BundleError saying how to get one."""
    from packaging.utils import parse_wheel_filename

    wanted = _target_tags(target)
    for cache in caches:
        for wheel in sorted(cache.glob(f"llama_cpp_python-{version}-*.whl")):
            _, _, _, wheel_tags = parse_wheel_filename(wheel.name)
            if {str(tag) for tag in wheel_tags} & wanted:
                return wheel
    caches = list(caches)
    where = " or ".join(str(c) for c in caches)
    if target.native:
        folder = caches[0] if caches else Path("wheels")
        raise BundleError(
            f"No llama-cpp-python {version} wheel for this machine ({target.name}, Python "
            f"{target.python}) in {where}. Build it here once (it compiles llama.cpp, about 5-10 "
            f"minutes): `{sys.executable} -m pip wheel --no-deps llama-cpp-python=={version} "
            f"-w {folder}`, or run installers/dev-setup.sh, which does the same; then build the "
            "bundle again. A wheel built elsewhere can be used by pointing BBJ_CODER_WHEELHOUSE "
            "at its folder."
        )
    raise BundleError(
        f"No llama-cpp-python {version} wheel for {target.name} / Python {target.python} in "
        f"{where}. llama-cpp-python is published as source only and compiles llama.cpp, so its "
        f"wheel must be built on {target.name} itself: there, run `pip wheel --no-deps "
        f"llama-cpp-python=={version} -w DIR`, copy the wheel into a folder here, point "
        "BBJ_CODER_WHEELHOUSE at it and build the bundle again (or build the whole bundle on "
        "that machine)."
    )


# --- pip -------------------------------------------------------------------------------------


def run_pip(args: list[str]) -> None:
    command = [sys.executable, "-m", "pip", *args]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run(command, env=env, check=False)
    if result.returncode != 0:
        raise BundleError(
            f"`pip {args[0]}` failed (exit {result.returncode}); see its output above. Building "
            "the wheelhouse needs PyPI or a mirror (PIP_INDEX_URL); only installing is offline."
        )


def build_own_wheel(source: Path, wheelhouse: Path) -> Path:
    run_pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheelhouse), str(source)])
    wheels = sorted(wheelhouse.glob("bbj_coder-*.whl"))
    if not wheels:
        raise BundleError(f"pip built no bbj-coder wheel from {source}.")
    return wheels[-1]


def fill_native(source: Path, wheelhouse: Path, llama_wheel: Path) -> None:
    """Every dependency for this machine; llama-cpp-python only from its cached wheel."""
    run_pip(
        [
            "wheel",
            "--quiet",
            "--prefer-binary",
            f"--only-binary={LLAMA}",
            "--find-links",
            str(llama_wheel.parent),
            "--wheel-dir",
            str(wheelhouse),
            str(source),
        ]
    )


def _download_args(target: Target, wheelhouse: Path) -> list[str]:
    major, minor = target.python_tuple
    args = ["download", "--quiet", "--only-binary=:all:", "--dest", str(wheelhouse)]
    args += ["--find-links", str(wheelhouse), "--implementation", "cp"]
    args += ["--python-version", f"{major}.{minor}"]
    for abi in (f"cp{major}{minor}", "abi3", "none"):
        args += ["--abi", abi]
    for tag in target.pip_platforms:
        args += ["--platform", tag]
    return args


def fill_cross(own_wheel: Path, wheelhouse: Path, target: Target) -> None:
    """Published wheels for another platform, then what pip's markers missed (see below)."""
    version = own_wheel.name.split("-")[1]
    run_pip([*_download_args(target, wheelhouse), f"bbj-coder=={version}"])
    markers = {**target.markers, "python_version": target.python}
    markers["python_full_version"] = f"{target.python}.0"
    for _ in range(5):
        missing = missing_requirements(sorted(wheelhouse.glob("*.whl")), markers)
        if not missing:
            return
        run_pip([*_download_args(target, wheelhouse), *missing])
    raise BundleError(
        f"Could not complete the wheelhouse for {target.name}: still missing {missing}."
    )


# pip evaluates markers such as `platform_system == "Windows"` against the machine it runs on,
# even with --platform, so a Windows bundle built on Linux would lack colorama (click needs it).
# The wheels' own metadata is read again here with the target's marker values.


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode("utf-8", "replace")
    headers = text.split("\n\n", 1)[0].splitlines()
    return [line.split(":", 1)[1].strip() for line in headers if line.startswith("Requires-Dist:")]


def _index(wheels: list[Path]) -> dict[str, list[tuple[object, Path]]]:
    from packaging.utils import canonicalize_name, parse_wheel_filename

    available: dict[str, list[tuple[object, Path]]] = {}
    for wheel in wheels:
        name, version, _, _ = parse_wheel_filename(wheel.name)
        available.setdefault(canonicalize_name(name), []).append((version, wheel))
    return available


def missing_requirements(wheels: list[Path], markers: dict[str, str]) -> list[str]:
    """Requirements of bbj-coder's closure, under the target's ``markers``, no wheel satisfies."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    available = _index(wheels)
    wanted: dict[str, set[str]] = {"bbj-coder": set()}
    missing: dict[str, str] = {}
    queue = ["bbj-coder"]
    while queue:
        name = queue.pop()
        lines = [line for _, wheel in available.get(name, []) for line in _requires(wheel)]
        for requirement in map(Requirement, lines):
            extras = {"", *wanted[name]}
            marker = requirement.marker
            if marker and not any(marker.evaluate({**markers, "extra": e}) for e in extras):
                continue
            dep = canonicalize_name(requirement.name)
            if dep not in wanted or not set(requirement.extras) <= wanted[dep]:
                wanted[dep] = wanted.get(dep, set()) | set(requirement.extras)
                queue.append(dep)
            versions = [version for version, _ in available.get(dep, [])]
            if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
                missing[dep] = f"{requirement.name}{requirement.specifier}"
    return sorted(missing.values())
