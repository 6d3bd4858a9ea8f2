"""Source trees: legacy encodings, binary files, link loops, exclusions and limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainer.data.sources import decode_source, scan_sources

EXTENSIONS = (".bbj", ".src", ".bbjt", ".bbl")


def scan(root: Path, exclude: tuple[str, ...] = (), max_bytes: int = 100_000):
    return scan_sources((root,), EXTENSIONS, exclude, max_bytes, show_progress=False)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ('print "caf\u00e9"\n'.encode(), 'print "caf\u00e9"\n', "utf-8"),
        ('print "caf\u00e9"\r\n'.encode("latin-1"), 'print "caf\u00e9"\n', "cp1252"),
        (b'print "\x80 5"\n', 'print "\u20ac 5"\n', "cp1252"),
        (b'print "\x81"\n', 'print "\x81"\n', "latin-1"),
        ("rem \u00fc\n".encode("utf-16"), "rem \u00fc\n", "utf-16"),
        (b"\xef\xbb\xbfprint 1\n", "print 1\n", "utf-8"),
    ],
)
def test_decoding_legacy_text(data: bytes, text: str, encoding: str) -> None:
    assert decode_source(data) == (text, encoding)


def test_binary_is_refused() -> None:
    assert decode_source(b"\x00\x01BBJ\x02tokenised\x00") is None
    assert decode_source(bytes(range(1, 9)) * 50) is None


def test_latin1_file_is_read_with_its_accents(tmp_path: Path) -> None:
    write(tmp_path / "p" / "a.bbj", 'print "Gr\u00fc\u00dfe"\n'.encode("latin-1"))
    result = scan(tmp_path)
    assert [f.text for f in result.files] == ['print "Gr\u00fc\u00dfe"\n']
    assert result.encodings == {"cp1252": 1}


def test_binary_file_with_a_bbj_name_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "tokenised.bbj", b"<<bbj>>\x00\x00\x07\x12\x00binary")
    write(tmp_path / "ok.bbj", b"print 1\n")
    result = scan(tmp_path)
    assert [f.rel_path for f in result.files] == ["ok.bbj"]
    assert result.skipped["binary"] == 1
    assert "tokenised.bbj" in str(result.problems[0])


def test_symlink_loop_ends(tmp_path: Path) -> None:
    write(tmp_path / "proj" / "a.bbj", b"print 1\n")
    os.symlink(tmp_path / "proj", tmp_path / "proj" / "loop")
    os.symlink(tmp_path, tmp_path / "proj" / "up")
    result = scan(tmp_path)
    assert [f.rel_path for f in result.files] == ["proj/a.bbj"]
    assert result.skipped["directory reached again through a link"] == 2


def test_file_reached_twice_through_a_link_is_read_once(tmp_path: Path) -> None:
    original = write(tmp_path / "a" / "x.bbj", b"print 1\n")
    os.symlink(original, tmp_path / "a" / "y.bbj")
    result = scan(tmp_path)
    assert len(result.files) == 1 and result.skipped["same file via a link"] == 1


def test_exclusions_sizes_empties_and_copies(tmp_path: Path) -> None:
    write(tmp_path / "app" / "main.bbj", b"print 1\n")
    write(tmp_path / "app" / "copy.src", b"print 1\n")
    write(tmp_path / "app" / "big.bbl", b"rem x\n" * 100)
    write(tmp_path / "app" / "empty.bbj", b"")
    write(tmp_path / "app" / "blank.bbjt", b"  \n\n")
    write(tmp_path / "app" / "notes.txt", b"not code")
    write(tmp_path / "app" / "legacy" / "old.bbj", b"print 2\n")
    write(tmp_path / ".git" / "hook.bbj", b"print 3\n")
    result = scan(tmp_path, exclude=(".*", "legacy"), max_bytes=100)
    assert [f.rel_path for f in result.files] == ["app/copy.src"]
    assert result.skipped == {
        "excluded": 2,
        "duplicate content": 1,
        "too large": 1,
        "empty": 2,
        "other file types": 1,
    }


def test_projects_and_keys(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "billing" / "src" / "inv.bbj", b"print 1\n")
    write(root / "top.bbj", b"print 2\n")
    files = {f.rel_path: f for f in scan(root).files}
    billing, top = files["billing/src/inv.bbj"], files["top.bbj"]
    assert (billing.project, billing.project_path, billing.key) == (
        "billing",
        "src/inv.bbj",
        "corpus/billing/src/inv.bbj",
    )
    assert (top.project, top.project_path, top.key) == ("corpus", "top.bbj", "corpus/top.bbj")


def test_empty_directory(tmp_path: Path) -> None:
    result = scan(tmp_path)
    assert result.files == [] and result.problems == []


def test_text_holding_a_special_token_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "odd.bbj", b'print "<|endoftext|>"\n')
    result = scan(tmp_path)
    assert result.files == [] and result.skipped == {"contains model special tokens": 1}
