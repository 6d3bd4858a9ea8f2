"""The records the data pipeline passes between its steps, and the way it reports bad input."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.errors import BbjCoderError

ROLES: tuple[str, ...] = ("system", "user", "assistant")
EXAMPLE_TYPES: tuple[str, ...] = ("completion", "comprehension", "migration", "explanation")
GENERATIONS: tuple[str, ...] = ("all", "character", "vpro5", "bbj-gui", "dwc")
CHAT_TYPE = "chat"
"""The type given to ChatML records that do not say what they are."""
UNKNOWN_GENERATION = "unknown"


class DataError(BbjCoderError):
    """A problem the user must fix before a build can run; its text is one readable sentence."""


@dataclass(frozen=True)
class InputProblem:
    """One piece of bad input that was skipped or flagged: where it is and what is wrong."""

    path: str
    message: str
    line: int | None = None
    field: str | None = None
    skipped: bool = True
    """False for a warning: the input was used anyway."""

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Example:
    """One chat conversation on its way to ``train.jsonl``/``val.jsonl``."""

    messages: tuple[Message, ...]
    source: str
    """Where it came from: ``path`` (Markdown) or ``path:line`` (JSONL)."""
    order: int
    """Position in the sorted input; the tie-breaker that keeps every step deterministic."""
    origin: str
    """``markdown`` or ``chatml``."""
    kind: str = CHAT_TYPE
    generations: tuple[str, ...] = (UNKNOWN_GENERATION,)
    title: str = ""
    declared_code: tuple[str, ...] | None = None
    """The ``## Code`` blocks of a Markdown example (checked instead of the answer's blocks)."""
    check_ok: bool | None = None
    """Checker verdict on the example's code: None when it has none or was not checked."""
    flags: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    """(file name, code) of a multi-file Markdown example: a small project for FIM."""

    def first(self, role: str) -> str:
        return next((m.content for m in self.messages if m.role == role), "")

    def joined(self, role: str) -> str:
        return "\n".join(m.content for m in self.messages if m.role == role)

    @property
    def generation_label(self) -> str:
        return "+".join(self.generations)


@dataclass(frozen=True)
class SourceFile:
    """A decoded BBj source file that feeds the FIM and pretraining data."""

    root_name: str
    """The last component of the source root the file was found under."""
    project: str
    """The project it belongs to: its first directory below the root (or the root's name)."""
    rel_path: str
    """POSIX path below the root: the file's name in prompts."""
    text: str
    """The decoded text with line endings normalised to ``\\n``."""
    encoding: str
    sha256: str
    """Of the bytes on disk."""

    @property
    def key(self) -> str:
        """What the train/validation split is keyed on."""
        return f"{self.root_name}/{self.rel_path}"

    @property
    def project_path(self) -> str:
        """The path inside its project: what FIM prompts name the file."""
        head, _, tail = self.rel_path.partition("/")
        return tail if tail and head == self.project else self.rel_path


@dataclass
class StepReport:
    """What one cleaning step did: counts for the report and a few examples of each case."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    details: list[dict[str, object]] = field(default_factory=list)
    tables: dict[str, object] = field(default_factory=dict)
    """Structured results beyond plain counts (e.g. pass rate by generation)."""

    def add(self, counter: str, amount: int = 1) -> None:
        self.counts[counter] = self.counts.get(counter, 0) + amount
