"""Stage-1 pretraining corpus: source files packed into records of at most ``max_seq_len`` tokens.

Each file is written as ``<|file_sep|>path\\n<text>`` (Qwen2.5-Coder's repo-level layout) and
files follow each other in a seeded, stable order; a file longer than one record is cut at line
ends across several. Records are ``{"text": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fim.formats import QWEN25_CODER
from trainer.data.keys import stable_hash
from trainer.data.progress import progress_bar
from trainer.data.records import SourceFile, StepReport
from trainer.data.tokens import TokenCounter
from trainer.data.trim import fit_chars

FILE_SEPARATOR = QWEN25_CODER.file_sep_token or "<|file_sep|>"


def document(file: SourceFile) -> str:
    text = file.text if file.text.endswith("\n") else file.text + "\n"
    return f"{FILE_SEPARATOR}{file.rel_path}\n{text}"


def pack_corpus(
    files: list[SourceFile],
    max_seq_len: int,
    counter: TokenCounter,
    seed: int,
    label: str,
    show_progress: bool,
) -> tuple[list[dict], StepReport]:
    report = StepReport(f"cpt {label}")
    ordered = sorted(files, key=lambda f: stable_hash(seed, "cpt-order", f.key))
    documents = [document(f) for f in ordered]
    pieces: list[Piece] = []
    counts = counter.count_many(documents)
    for text, tokens in progress_bar(
        zip(documents, counts, strict=True),
        f"packing pretraining data ({label})",
        show_progress,
        total=len(documents),
    ):
        if tokens <= max_seq_len:
            pieces.append(Piece(text, tokens, exact=True))
        else:
            report.add("files split across records")
            pieces.extend(_split_long(text, max_seq_len, counter))
    packed = _verified(_pack(pieces, max_seq_len), max_seq_len, counter)
    report.add("files", len(files))
    report.add("records", len(packed))
    report.add("tokens", sum(piece.tokens for piece in packed))
    return [{"text": piece.text} for piece in packed], report


@dataclass(frozen=True)
class Piece:
    """Text with its token count; ``exact`` when counted whole, not summed from lines.

    Whole documents start with the ``<|file_sep|>`` special token, where tokenizers split, so
    the sum of whole documents' counts is the exact count of their concatenation.
    """

    text: str
    tokens: int
    exact: bool


def _pack(pieces: list[Piece], max_seq_len: int) -> list[Piece]:
    records: list[Piece] = []
    current: list[Piece] = []
    for piece in pieces:
        if current and sum(p.tokens for p in current) + piece.tokens > max_seq_len:
            records.append(_join(current))
            current = []
        current.append(piece)
    if current:
        records.append(_join(current))
    return records


def _join(pieces: list[Piece]) -> Piece:
    return Piece(
        "".join(p.text for p in pieces), sum(p.tokens for p in pieces), all(p.exact for p in pieces)
    )


def _split_long(text: str, max_seq_len: int, counter: TokenCounter) -> list[Piece]:
    """Cut a long document at line ends into pieces that each fit; long lines are cut too."""
    lines = text.splitlines(keepends=True)
    pieces: list[Piece] = []
    current: list[str] = []
    used = 0
    for line, tokens in zip(lines, counter.count_many(lines), strict=True):
        if current and used + tokens > max_seq_len:
            pieces.append(Piece("".join(current), used, exact=False))
            current, used = [], 0
        if tokens > max_seq_len:
            pieces.extend(_cut_line(line, max_seq_len, counter))
            continue
        current.append(line)
        used += tokens
    if current:
        pieces.append(Piece("".join(current), used, exact=False))
    return pieces


def _cut_line(line: str, max_seq_len: int, counter: TokenCounter) -> list[Piece]:
    pieces = []
    while line:
        keep = max(1, fit_chars(line, max_seq_len, counter, from_end=False))
        pieces.append(Piece(line[:keep], counter.count(line[:keep]), exact=False))
        line = line[keep:]
    return pieces


def _verified(records: list[Piece], max_seq_len: int, counter: TokenCounter) -> list[Piece]:
    """Recount records built from summed line counts (BPE across joined lines can count a
    little more than its pieces); one over the limit is split in two and checked again."""
    estimated = [r for r in records if not r.exact]
    recounted = iter(counter.count_many([r.text for r in estimated]))
    result: list[Piece] = []
    for record in records:
        tokens = record.tokens if record.exact else next(recounted)
        if tokens <= max_seq_len:
            result.append(Piece(record.text, tokens, exact=True))
            continue
        result.extend(
            _verified(
                [
                    Piece(half, 0, exact=False)
                    for half in _halves(record.text, max_seq_len, counter)
                ],
                max_seq_len,
                counter,
            )
        )
    return result


def _halves(text: str, max_seq_len: int, counter: TokenCounter) -> list[str]:
    lines = text.splitlines(keepends=True)
    if len(lines) > 1:
        half = len(lines) // 2
        return ["".join(lines[:half]), "".join(lines[half:])]
    cut = max(1, fit_chars(text, max_seq_len, counter, from_end=False))
    return [text[:cut], text[cut:]]
