"""Raw BBj source trees: walking them safely and decoding legacy text.

Directory symlinks are followed once (a loop is reported, never followed round); a file
reached twice through links, or a copy with the same bytes, is kept once. Files that are too
large, empty, binary (BBj can save programs tokenised) or excluded by a glob are counted and
skipped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from trainer.data.progress import progress_bar
from trainer.data.records import InputProblem, SourceFile
from trainer.data.tokens import SPECIAL_TOKENS
from trainer.data.walk import walk_files

_CONTROL_BYTES = frozenset(range(0, 32)) - {9, 10, 12, 13, 26}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class SourceScan:
    """What a walk over the source roots found."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    encodings: Counter[str] = field(default_factory=Counter)
    problems: list[InputProblem] = field(default_factory=list)
    read_paths: list[Path] = field(default_factory=list)


def decode_source(data: bytes) -> tuple[str, str] | None:
    """Decode legacy source text: (text, encoding), or None when the bytes look binary.

    Order: a UTF-8 or UTF-16 byte-order mark, strict UTF-8, Windows-1252, then Latin-1
    (which decodes anything). Line endings become ``\\n``.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            return _newlines(data.decode("utf-16")), "utf-16"
        except UnicodeDecodeError:
            return None
    if _looks_binary(data):
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return _newlines(data.decode(encoding)), encoding
        except UnicodeDecodeError:
            continue
    return None  # pragma: no cover - latin-1 decodes every byte string


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return control * 20 > len(sample)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def scan_sources(
    roots: tuple[Path, ...],
    extensions: tuple[str, ...],
    exclude: tuple[str, ...],
    max_bytes: int,
    show_progress: bool,
) -> SourceScan:
    """Read every BBj source file below ``roots`` in a stable (sorted) order."""
    scan = SourceScan()
    seen_files: set[tuple[int, int]] = set()
    seen_content: set[str] = set()
    suffixes = tuple(e.lower() for e in extensions)
    for root in roots:
        walk = walk_files(root, exclude, scan.skipped, scan.problems)
        for path, rel in progress_bar(walk, f"reading {root.name or root}", show_progress):
            if not rel.lower().endswith(suffixes):
                scan.skipped["other file types"] += 1
                continue
            _read_one(root, path, rel, max_bytes, scan, seen_files, seen_content)
    return scan


def _read_one(
    root: Path,
    path: Path,
    rel: str,
    max_bytes: int,
    scan: SourceScan,
    seen_files: set[tuple[int, int]],
    seen_content: set[str],
) -> None:
    try:
        info = path.stat()
    except OSError:
        scan.skipped["broken link"] += 1
        return
    if (info.st_dev, info.st_ino) in seen_files:
        scan.skipped["same file via a link"] += 1
        return
    seen_files.add((info.st_dev, info.st_ino))
    reason = _size_problem(info.st_size, max_bytes)
    if reason:
        scan.skipped[reason] += 1
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        scan.skipped["unreadable"] += 1
        scan.problems.append(InputProblem(str(path), f"cannot be read ({exc.strerror})"))
        return
    scan.read_paths.append(path)
    _add_file(root, path, rel, data, scan, seen_content)


def _size_problem(size: int, max_bytes: int) -> str:
    if size == 0:
        return "empty"
    return "too large" if size > max_bytes else ""


def _add_file(
    root: Path, path: Path, rel: str, data: bytes, scan: SourceScan, seen_content: set[str]
) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest in seen_content:
        scan.skipped["duplicate content"] += 1
        return
    seen_content.add(digest)
    decoded = decode_source(data)
    if decoded is None:
        scan.skipped["binary"] += 1
        scan.problems.append(InputProblem(str(path), "looks binary (tokenised program?) skipped"))
        return
    text, encoding = decoded
    if not text.strip():
        scan.skipped["empty"] += 1
        return
    if any(token in text for token in SPECIAL_TOKENS):
        scan.skipped["contains model special tokens"] += 1
        scan.problems.append(
            InputProblem(
                str(path), "contains a model special token such as <|endoftext|> as text; skipped"
            )
        )
        return
    scan.encodings[encoding] += 1
    root_name = root.resolve().name or "root"
    project = rel.split("/", 1)[0] if "/" in rel else root_name
    scan.files.append(SourceFile(root_name, project, rel, text, encoding, digest))
