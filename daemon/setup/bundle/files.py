"""The bundle's files besides the wheelhouse: models and their manifest, the installers,
``SHA256SUMS``, ``INSTALL.txt`` and the ``.tar.gz`` archive; with progress for large files."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path

from daemon.files import atomic_path, copy_hashed, sha256_file
from daemon.models.gguf_info import read_gguf_info
from daemon.models.store import sanitize_name
from daemon.setup.bundle.wheels import BundleError

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
INSTALLERS = ("install.sh", "install.ps1", "uninstall.sh", "uninstall.ps1")


@dataclass(frozen=True)
class BundledModel:
    name: str
    file: str
    size: int
    sha256: str
    quant: str
    context_length: int
    fim_format: str | None


class Progress:
    """A one-line bar on a terminal; a start and an end line otherwise (logs stay short)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.tty = sys.stderr.isatty()
        if not self.tty:
            print(f"    {label} ({total / 1e6:.1f} MB)…", file=sys.stderr, flush=True)

    def __call__(self, count: int) -> None:
        self.done += count
        if self.tty:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            print(f"\r    {self.label} [{bar:<30}] {share:4.0%}", end="", file=sys.stderr)

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)


def check_models(sources: list[Path]) -> None:
    """Refuse missing, non-GGUF or same-named models before any time is spent building."""
    names: set[str] = set()
    for source in sources:
        if not source.is_file():
            raise BundleError(f"The model file {source} does not exist.")
        read_gguf_info(source)
        name = sanitize_name(source.stem)
        if name in names:
            raise BundleError(f"Two models would both be called {name!r}; rename one file.")
        names.add(name)


def _add_model(source: Path, models_dir: Path) -> BundledModel:
    info = read_gguf_info(source)
    name = sanitize_name(source.stem)
    target = models_dir / f"{name}.gguf"
    progress = Progress(f"copying and hashing {source.name}", source.stat().st_size)
    digest = copy_hashed(source, target, progress)
    progress.close()
    fim = info.fim_format.name if info.fim_format else None
    size = target.stat().st_size
    return BundledModel(name, target.name, size, digest, info.quant, info.context_length, fim)


def add_models(sources: list[Path], models_dir: Path) -> list[BundledModel]:
    """Copy the GGUFs into ``models/`` and write their manifest; the first is the default."""
    check_models(sources)
    models_dir.mkdir(parents=True, exist_ok=True)
    entries = [_add_model(source, models_dir) for source in sources]
    manifest = {
        "default": entries[0].name if entries else None,
        "models": [asdict(entry) for entry in entries],
    }
    (models_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return entries


def copy_installers(source: Path, bundle: Path) -> None:
    """install/uninstall scripts, service templates, Continue templates, the offline README."""
    installers = source / "installers"
    for name in INSTALLERS:
        shutil.copy2(installers / name, bundle / name)
        if name.endswith(".sh"):
            os.chmod(bundle / name, 0o755)
    shutil.copytree(installers / "service", bundle / "service")
    shutil.copytree(source / "continue-config", bundle / "continue-config")
    shutil.copy2(installers / "README-offline.md", bundle / "README-offline.md")


def write_install_txt(bundle: Path, info: dict[str, object]) -> None:
    version, platform, python = info["version"], info["platform"], info["python"]
    text = f"""bbj-coder {version} offline bundle for {platform}, Python {python}

Nothing is downloaded while installing: everything needed is in this folder.

Linux, macOS:   bash install.sh             (options: bash install.sh --help)
Windows:        powershell -ExecutionPolicy Bypass -File install.ps1

The installer checks every file against SHA256SUMS first and refuses a damaged bundle.
It needs Python {python} on the machine (python3 on Linux and macOS, py -{python} on Windows).
Uninstall:      bash uninstall.sh  /  uninstall.ps1   (keeps your models unless --remove-models)

README-offline.md explains what is in the bundle and what each step does.
"""
    (bundle / "INSTALL.txt").write_text(text, encoding="utf-8")


def write_sums(bundle: Path, known: dict[str, str]) -> int:
    """``SHA256SUMS`` (sha256sum's format) for every file; ``known`` saves re-reading models."""
    lines = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle).as_posix()
        if relative == SUMS:
            continue
        digest = known.get(relative) or sha256_file(path)
        lines.append(f"{digest}  {relative}\n")
    (bundle / SUMS).write_text("".join(lines), encoding="utf-8")
    return len(lines)


def _clean(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def write_archive(bundle: Path, archive: Path) -> None:
    """``bundle`` as ``archive`` (.tar.gz), written beside it and renamed when complete."""
    # Level 6: GGUF weights barely compress, and level 9 only costs time on them.
    with atomic_path(archive) as partial, tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=bundle.name, filter=_clean)
