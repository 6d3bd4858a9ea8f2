"""``bbj-coder bundle build``: one folder (and ``.tar.gz``) that installs with no network at all.

Layout of ``OUT/bbj-coder-<version>-<platform>-py<python>/``::

    bundle.json        what the bundle is for (version, platform, python, models)
    wheelhouse/        bbj-coder's wheel and every runtime dependency as wheels
    models/            the GGUF files and manifest.json (name, file, size, sha256, quant, …)
    install.sh  install.ps1  uninstall.sh  uninstall.ps1
    service/           systemd unit, launchd agent and Windows task templates
    continue-config/   Continue.dev templates
    README-offline.md  INSTALL.txt  SHA256SUMS

Building needs PyPI (or a mirror) and a source checkout; installing needs neither.
``bbj-coder bundle setup DIR`` is the installers' own step (token, config, models).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from daemon import __version__
from daemon.errors import BbjCoderError, os_error_as
from daemon.setup.bundle.files import (
    add_models,
    check_models,
    copy_installers,
    write_archive,
    write_install_txt,
    write_sums,
)
from daemon.setup.bundle.wheels import (
    LLAMA,
    BundleError,
    Target,
    build_own_wheel,
    fill_cross,
    fill_native,
    find_llama_wheel,
    resolve_target,
    wheel_caches,
)

SOURCE_PARTS = ("pyproject.toml", "README.md")


def source_root() -> Path:
    """The checkout this module runs from; bundles are built from source, not from a wheel."""
    root = Path(__file__).resolve().parents[3]
    needed = [root / "pyproject.toml", root / "installers" / "install.sh", root / "continue-config"]
    if not all(path.exists() for path in needed):
        raise BundleError(
            f"`bundle build` needs a bbj-coder source checkout, but {root} is not one; run it "
            "from the repository (e.g. `.venv/bin/bbj-coder bundle build …` after "
            "installers/dev-setup.sh)."
        )
    return root


def llama_version(root: Path) -> str:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        if name.strip() == LLAMA and version:
            return version.split(";")[0].strip()
    raise BundleError(f"pyproject.toml does not pin {LLAMA} with ==; pin it to build bundles.")


def _copy_source(root: Path, target: Path) -> Path:
    """The files pip needs to build the wheel, copied so the checkout stays untouched."""
    target.mkdir()
    for name in SOURCE_PARTS:
        shutil.copy2(root / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for package in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
        shutil.copytree(package, target / package.name, ignore=ignore)
    return target


class Steps:
    def __init__(self, total: int) -> None:
        self.total, self.number, self.started = total, 0, time.monotonic()

    def __call__(self, text: str) -> None:
        self.number += 1
        elapsed = time.monotonic() - self.started
        print(f"[{self.number}/{self.total}] {text}  ({elapsed:.0f} s)", flush=True)


def _wheelhouse(root: Path, wheelhouse: Path, target: Target, work: Path, step: Steps) -> None:
    llama = find_llama_wheel(llama_version(root), target, wheel_caches())
    source = _copy_source(root, work / "source")
    wheelhouse.mkdir()
    step(f"Building the bbj-coder wheel and collecting dependencies for {target.name}")
    if target.native:
        fill_native(source, wheelhouse, llama)
        return
    own = build_own_wheel(source, wheelhouse)
    shutil.copy2(llama, wheelhouse / llama.name)
    fill_cross(own, wheelhouse, target)


def _info(target: Target, models: list[Any]) -> dict[str, Any]:
    return {
        "name": "bbj-coder",
        "version": __version__,
        "platform": target.name,
        "python": target.python,
        "pip_platforms": list(target.pip_platforms),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "models": [model.name for model in models],
    }


def build_bundle(out: Path, models: list[Path], target: Target) -> tuple[Path, Path]:
    """Build the bundle folder and its archive under ``out``; returns both paths.

    Every failure is a :class:`BbjCoderError`; a file that cannot be read or written is a
    :class:`BundleError` with the system's sentence.
    """
    with os_error_as(BundleError):
        return _build(out, models, target)


def _build(out: Path, models: list[Path], target: Target) -> tuple[Path, Path]:
    root = source_root()
    check_models(models)
    name = f"bbj-coder-{__version__}-{target.name}-py{target.python}"
    out.mkdir(parents=True, exist_ok=True)
    step = Steps(5)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=out) as tmp:
        work = Path(tmp)
        bundle = work / name
        bundle.mkdir()
        _wheelhouse(root, bundle / "wheelhouse", target, work, step)
        step(f"Adding {len(models)} model(s)")
        entries = add_models(models, bundle / "models")
        step("Adding the installers, service templates and Continue templates")
        copy_installers(root, bundle)
        info = _info(target, entries)
        (bundle / "bundle.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        write_install_txt(bundle, info)
        step("Writing SHA256SUMS")
        known = {f"models/{entry.file}": entry.sha256 for entry in entries}
        count = write_sums(bundle, known)
        print(f"    {count} files listed", flush=True)
        step(f"Writing {name}.tar.gz")
        final = out / name
        if final.exists():
            shutil.rmtree(final)
        bundle.rename(final)
    archive = out / f"{name}.tar.gz"
    write_archive(final, archive)
    return final, archive


def bundle_build_command(
    out: Path, models: list[Path], platform: str | None, python_version: str | None
) -> int:
    """``bbj-coder bundle build``: exit 0 with the bundle built, 2 when refused or failed."""
    try:
        target = resolve_target(platform, python_version)
        folder, archive = build_bundle(out, [Path(m) for m in models], target)
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    size = archive.stat().st_size / 1e6
    print(f"Bundle ready: {folder}\nArchive:      {archive} ({size:.1f} MB)")
    print(f"Install it with `bash install.sh` in {folder.name} (see INSTALL.txt).")
    return 0


def bundle_setup_command(bundle: Path) -> int:
    """``bbj-coder bundle setup DIR``: the installers' token, config and models step."""
    from daemon.setup.bundle.install_step import setup_from_bundle

    try:
        for line in setup_from_bundle(bundle):
            print(f"  {line}")
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    return 0
