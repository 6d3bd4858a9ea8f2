"""Context from the workspace index for FIM prompts and chat.

FIM: for the file being edited, the signatures (never bodies) of the classes it ``use``s, of
the class of the object before the cursor (``declare``d or assigned with ``new``), and the
``ENTER`` lists of the programs it ``CALL``s. They are rendered as small BBj files and pinned
at the front of the prompt in the order the file names them (its ``use`` lines first), so the
start of the prompt stays the same from one keystroke to the next and llama.cpp keeps its KV
cache. When they do not all fit the token budget, signatures come before doc comments: the
class of the object before the cursor and its parents are kept first, then the others in
order, and doc comments are added where room is left; a class too large on its own keeps its
first members.

Chat: classes, methods, functions and labels the question names are looked up and their
definitions added, with the file each lives in.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from daemon.check import Outline, declared_type, outline
from daemon.workspace.index import WorkspaceIndex
from daemon.workspace.store import SymbolRow
from fim import ContextFile

TokenCounter = Callable[[str], int]

_OBJECT_BEFORE_CURSOR = re.compile(r"(#?[A-Za-z_]\w*[!]?)\s*\.\s*\w*$")
_NEW_BEFORE_CURSOR = re.compile(r"\bnew\s+([A-Za-z_][\w.]*)\s*\(?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_]\w{2,}[!$%]?")
_DOC_CHARS = 120
_CACHE_SIZE = 64
_MAX_CHAT_WORDS = 400
_MAX_ANCESTRY = 3
_DECLARATION_LINE = re.compile(
    r"^[ \t]*(?:\d+[ \t]+)?(?:use|declare|call|field|class|interface|classend|interfaceend)\b.*$"
    r"|^.*=[ \t]*new\b.*$",
    re.IGNORECASE | re.MULTILINE,
)
_EXTENDS = re.compile(r"\bextends\s+([\w.]+(?:\s*,\s*[\w.]+)*)", re.IGNORECASE)


@dataclass(frozen=True)
class _Piece:
    """One unit of pinned context: a class outline or a called program's ENTER list."""

    key: tuple[str, str]
    path: str
    full: str
    bare: str
    members: tuple[str, ...] = ()
    head: str = ""
    tail: str = ""
    parents: tuple[str, ...] = ()
    file: str = ""


class WorkspaceContext:
    """Pinned FIM context and chat definitions from a :class:`WorkspaceIndex`."""

    def __init__(self, index: WorkspaceIndex, budget_tokens: int) -> None:
        self.index = index
        self.budget_tokens = budget_tokens
        self._cache: OrderedDict[tuple[object, ...], tuple[ContextFile, ...]] = OrderedDict()
        self._lock = threading.Lock()

    # FIM --------------------------------------------------------------------------------------
    def pinned(
        self, path: str | None, prefix: str, suffix: str, count_tokens: TokenCounter
    ) -> tuple[ContextFile, ...]:
        """The pinned context for a completion in ``path`` at the end of ``prefix``."""
        if self.budget_tokens <= 0:
            return ()
        here = self._current_file(path)
        # BBj's declare holds for the whole program wherever it stands: read the suffix too.
        parsed = outline(_declaration_lines(prefix + suffix))
        focus = _focus_type(prefix, parsed)
        key = (self.index.generation, here, parsed.uses, parsed.calls, focus, parsed.variables)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        pieces, focus_key = self._pieces(here, parsed, focus)
        chosen = _fit(pieces, focus_key, self.budget_tokens, count_tokens)
        with self._lock:
            self._cache[key] = chosen
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return chosen

    def _current_file(self, path: str | None) -> Path | None:
        if not path:
            return None
        if Path(path).is_absolute():
            return Path(path) if self.index.roots.contains(path) else None
        found = self.index.resolve(path, None)
        return Path(found) if found is not None else None

    def _pieces(
        self, here: Path | None, parsed: Outline, focus: str | None
    ) -> tuple[list[_Piece], tuple[str, str] | None]:
        pieces: list[_Piece] = []
        by_name: dict[str, _Piece] = {}
        for use in parsed.uses:
            if use.path is None:
                continue
            found = None
            target = self.index.resolve(use.path, here)
            if target is not None:
                found = self.index.class_in(target, use.name)
            found = found or self.index.class_named(use.name, here)
            if found is not None:
                _add(pieces, by_name, _class_piece(*found))
        names = [type_name for _var, type_name in parsed.variables]
        for type_name in [*names, *([focus] if focus else [])]:
            short = _short(type_name)
            if short.casefold() in by_name:
                continue
            found = self.index.class_named(short, here)
            if found is not None:
                _add(pieces, by_name, _class_piece(*found))
        self._add_ancestors(pieces, by_name)
        for call in parsed.calls:
            target = self.index.resolve(call.program, here)
            if target is not None:
                piece = self._program_piece(target, call.label)
                if piece is not None:
                    _add(pieces, {}, piece)
        focus_piece = by_name.get(_short(focus).casefold()) if focus else None
        return pieces, (focus_piece.key if focus_piece else None)

    def _add_ancestors(self, pieces: list[_Piece], by_name: dict[str, _Piece]) -> None:
        """The classes the pinned ones extend (their inherited methods are callable too),
        after them, up to :data:`_MAX_ANCESTRY` levels."""
        level = list(pieces)
        for _depth in range(_MAX_ANCESTRY):
            found_now: list[_Piece] = []
            for piece in level:
                for parent in piece.parents:
                    if parent.casefold() in by_name:
                        continue
                    found = self.index.class_named(parent, Path(piece.file))
                    if found is not None:
                        added = _class_piece(*found)
                        _add(pieces, by_name, added)
                        found_now.append(added)
            level = found_now

    def _program_piece(self, target: str, label: str | None) -> _Piece | None:
        enters = [params for at, params in self.index.store.enters(target) if at == label]
        display = self.index.store.display_of(target) or target
        if not enters:
            return None
        lines = ([f"{label}:"] if label else []) + [f"enter {enters[0]}"]
        text = "\n".join(lines) + "\n"
        return _Piece(("program", f"{target}::{label or ''}"), display, text, text)

    # chat -------------------------------------------------------------------------------------
    def chat_note(self, text: str, count_tokens: TokenCounter | None = None) -> str:
        """Definitions of the workspace symbols ``text`` names, as a note for the system
        prompt; empty when it names none."""
        words = list(dict.fromkeys(m.group() for m in _WORD.finditer(text)))[:_MAX_CHAT_WORDS]
        if not words or self.budget_tokens <= 0:
            return ""
        count = count_tokens or (lambda s: len(s) // 3)
        blocks: list[str] = []
        used = 0
        for block in self._chat_blocks(words):
            cost = count(block)
            if used + cost > self.budget_tokens:
                continue
            blocks.append(block)
            used += cost
        if not blocks:
            return ""
        return (
            "Definitions from the user's workspace that the question refers to "
            "(signatures only; use these names exactly):\n\n" + "\n".join(blocks)
        )

    def _chat_blocks(self, words: list[str]) -> Iterable[str]:
        rows = self.index.store.named_any(words)
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if row.kind in ("class", "interface"):
                found = self.index.class_in(row.path, row.name)
                if found is None:
                    continue
                piece = _class_piece(*found)
                if piece.key not in seen:
                    seen.add(piece.key)
                    yield f"```bbj\nrem file: {piece.path}\n{piece.full}```\n"
        for row in rows:
            if row.kind in ("class", "interface"):
                continue
            owner = f" (class {row.container})" if row.container else ""
            doc = f"\nrem /** {_short_doc(row.doc)} */" if row.doc else ""
            where = f"rem file: {row.display}, line {row.line}{owner}{doc}"
            yield f"```bbj\n{where}\n{row.signature}\n```\n"


def _declaration_lines(text: str) -> str:
    """Only the lines that say what a program uses and what type its objects have (one regex
    pass: a 150 KB file costs about a millisecond, not a full outline on every keystroke)."""
    return "\n".join(m.group() for m in _DECLARATION_LINE.finditer(text))


def _add(pieces: list[_Piece], by_name: dict[str, _Piece], piece: _Piece) -> None:
    if any(p.key == piece.key for p in pieces):
        return
    pieces.append(piece)
    by_name.setdefault(piece.key[1].casefold(), piece)


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1].removesuffix("[]")


def _short_doc(doc: str) -> str:
    first = doc.split(". ", 1)[0].split(" @", 1)[0].strip()
    return first[:_DOC_CHARS]


def _class_piece(head: SymbolRow, members: list[SymbolRow]) -> _Piece:
    public = [m for m in members if not _is_private(m.signature)]
    closer = "interfaceend" if head.kind == "interface" else "classend"
    top = (f"rem /** {_short_doc(head.doc)} */\n" if head.doc else "") + head.signature + "\n"
    with_doc = tuple(
        (f"    rem /** {_short_doc(m.doc)} */\n" if m.doc else "") + f"    {m.signature}\n"
        for m in public
    )
    bare = tuple(f"    {m.signature}\n" for m in public)
    full = top + "".join(with_doc) + closer + "\n"
    extends = _EXTENDS.search(head.signature)
    parents = tuple(_short(p) for p in re.split(r"\s*,\s*", extends.group(1))) if extends else ()
    return _Piece(
        ("class", head.name),
        head.display,
        full,
        head.signature + "\n" + "".join(bare) + closer + "\n",
        bare,
        head.signature + "\n",
        closer + "\n",
        parents,
        head.path,
    )


def _is_private(signature: str) -> bool:
    return " private " in f" {signature.casefold()} "


def _focus_type(prefix: str, parsed: Outline) -> str | None:
    """The type of the object before the cursor (``customer!.`` / ``#field!.`` / ``new X``)."""
    line = prefix[prefix.rfind("\n") + 1 :]
    match = _OBJECT_BEFORE_CURSOR.search(line)
    if match is None:
        created = _NEW_BEFORE_CURSOR.search(line)
        return created.group(1) if created else None
    name = match.group(1)
    found = declared_type(parsed.variables, name)
    if found is None and name.startswith("#"):
        field = next(
            (s for s in reversed(parsed.symbols) if s.kind == "field" and s.name == name[1:]),
            None,
        )
        found = field.type_name if field else None
    if found is None and not name.startswith("#") and name[-1:] != "!":
        found = name  # a class name: a static call such as ``Validator.isValid(``
    return found


def _fit(
    pieces: list[_Piece], focus: tuple[str, str] | None, budget: int, count: TokenCounter
) -> tuple[ContextFile, ...]:
    """Keep what fits ``budget`` tokens, output in the pieces' own order. First every piece's
    signatures, the focus class and its parents first, then the rest in order (the focus class
    cut to its first members if it does not fit whole); then doc comments where room is left."""
    ancestry = _ancestry(pieces, focus)
    order = sorted(range(len(pieces)), key=lambda i: (ancestry.get(pieces[i].key, 99), i))

    def cost(piece: _Piece, text: str) -> int:
        return count(f"\n{piece.path}\n{text}")

    chosen: dict[int, str] = {}
    left = budget
    for index in order:
        piece = pieces[index]
        text: str | None = piece.bare
        if cost(piece, piece.bare) > left:
            focused = ancestry.get(piece.key) == 0 and piece.members
            text = _cut_members(piece, left, count) if focused else None
        if text is not None:
            chosen[index], left = text, left - cost(piece, text)
    for index in order:
        piece = pieces[index]
        if chosen.get(index) == piece.bare and piece.full != piece.bare:
            extra = cost(piece, piece.full) - cost(piece, piece.bare)
            if extra <= left:
                chosen[index], left = piece.full, left - extra
    return tuple(ContextFile(pieces[i].path, chosen[i]) for i in sorted(chosen))


def _ancestry(pieces: list[_Piece], focus: tuple[str, str] | None) -> dict[tuple[str, str], int]:
    """Focus class → 0, its parent → 1, grandparent → 2 …"""
    by_name = {p.key[1].casefold(): p for p in pieces if p.key[0] == "class"}
    ranks: dict[tuple[str, str], int] = {}
    current = next((p for p in pieces if p.key == focus), None)
    while current is not None and current.key not in ranks:
        ranks[current.key] = len(ranks)
        current = next(
            (by_name[n.casefold()] for n in current.parents if n.casefold() in by_name), None
        )
    return ranks


def _cut_members(piece: _Piece, budget: int, count: TokenCounter) -> str | None:
    low, high = 0, len(piece.members)
    best: str | None = None
    while low <= high:
        middle = (low + high) // 2
        text = piece.head + "".join(piece.members[:middle]) + piece.tail
        if count(f"\n{piece.path}\n{text}") <= budget:
            best, low = text, middle + 1
        else:
            high = middle - 1
    return best
