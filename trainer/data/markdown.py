"""Markdown training examples (YAML front matter + ``##`` sections) turned into conversations.

How each ``type`` becomes a conversation (the system message is added later, in cleaning):

- ``completion``: the user asks for what ``description`` (else ``title``) says, naming the
  target generation; the assistant answers with the code, then the explanation and the
  expected behaviour/output.
- ``comprehension``: the user shows the code and asks what it does; the assistant explains
  (``## Explanation`` then the expected behaviour/output).
- ``migration``: the blocks under a ``### Before (…)`` sub-heading of ``## Code`` are the
  original (``from_generation``), those under ``### After (…)`` the migrated program
  (``to_generation``, one generation or a list); without those sub-headings the first block is
  the original and the others the result. The user shows the original and asks for the
  migration, the assistant answers with the migrated code and the explanation.

Several blocks each named by a ``<!-- filename: X.bbj -->`` comment make a multi-file example:
the conversation names every file, and the files also become one small project whose FIM
samples see each other as repo-level context (``Example.files``).
- ``explanation``: the user asks about ``description`` (else the title); the assistant explains
  and then shows the code as an example.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fim.fences import BBJ_ALIASES, fence, split_segments
from trainer.data.fences import has_code_block
from trainer.data.frontmatter import parse_front_matter, split_front_matter
from trainer.data.records import Example, InputProblem, Message

SECTION_ALIASES: dict[str, str] = {
    "code": "code",
    "expected behavior": "behavior",
    "expected behaviour": "behavior",
    "expected output": "output",
    "explanation": "explanation",
}
REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "completion": ("code",),
    "comprehension": ("code", "explanation"),
    "migration": ("code",),
    "explanation": ("explanation",),
}
SECTION_TITLES = {"code": "## Code", "explanation": "## Explanation"}
GENERATION_NAMES: dict[str, str] = {
    "character": "a character-mode (terminal) program",
    "vpro5": "a Visual PRO/5 program",
    "bbj-gui": "a BBj GUI (SysGui) program",
    "dwc": "a DWC (Dynamic Web Client) program",
}

_HEADING = re.compile(r"^##\s+(?P<name>[^#].*?)\s*#*\s*$")
_BLOCK_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|#|>|\||<!--)")
_FILENAME = re.compile(r"<!--\s*filename:\s*(?P<name>\S.*?)\s*-->")
_STAGE = re.compile(r"^###\s+(?P<stage>before|after)\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class CodeBlock:
    code: str
    filename: str | None = None
    stage: str | None = None
    """``before`` or ``after`` under a migration's ``### Before``/``### After`` sub-heading."""


@dataclass
class ParsedExample:
    """The pieces of one Markdown file before it becomes a conversation."""

    path: str
    meta: dict[str, Any]
    code: list[CodeBlock] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)


def load_markdown_file(path: Path, order: int) -> tuple[Example | None, list[InputProblem]]:
    """Parse one example; on any error the example is None and the problems say why."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        return None, [InputProblem(name, f"is not UTF-8 text (byte {exc.start})")]
    except OSError as exc:
        return None, [InputProblem(name, f"cannot be read ({exc.strerror})")]
    split = split_front_matter(name, text)
    if isinstance(split, InputProblem):
        return None, [split]
    yaml_text, body, body_line = split
    parsed = parse_front_matter(name, yaml_text)
    if isinstance(parsed, list):
        return None, parsed
    example = ParsedExample(name, parsed[0])
    problems = _read_sections(example, body, body_line)
    if any(p.skipped for p in problems):
        return None, problems
    return to_example(example, order), problems


def _read_sections(example: ParsedExample, body: str, first_line: int) -> list[InputProblem]:
    problems: list[InputProblem] = []
    current: str | None = None
    chunks: dict[str, list[str]] = {}
    for offset, line, in_code in _lines(body):
        heading = None if in_code else _HEADING.match(line.rstrip("\n"))
        if heading is None:
            if current is not None:
                chunks[current].append(line)
            continue
        title = " ".join(heading["name"].lower().split())
        current = SECTION_ALIASES.get(title)
        if current is None:
            message = f"unknown section '## {heading['name']}' ignored"
            problems.append(InputProblem(example.path, message, first_line + offset, skipped=False))
        else:
            chunks.setdefault(current, [])
    example.sections = {key: "".join(lines).strip() for key, lines in chunks.items()}
    for key in ("explanation", "behavior"):
        if key in example.sections:
            example.sections[key] = unwrap_paragraphs(example.sections[key])
    problems.extend(_check_sections(example))
    return problems


def unwrap_paragraphs(text: str) -> str:
    """Join the hard-wrapped lines of prose paragraphs (Markdown soft breaks) into one line
    each, so the model does not learn the author's line width; code, lists, quotes, tables
    and headings keep their lines."""
    out = []
    for segment in split_segments(text):
        out.append(segment.raw if segment.is_code else _unwrap(segment.raw))
    return "".join(out)


def _unwrap(prose: str) -> str:
    lines: list[str] = []
    for line in prose.split("\n"):
        previous = lines[-1] if lines else ""
        if _joins(previous, line):
            lines[-1] = previous.rstrip() + " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def _joins(previous: str, line: str) -> bool:
    if not previous.strip() or not line.strip() or previous.endswith("  "):
        return False
    if line.startswith("    ") or _BLOCK_LINE.match(line):
        return False
    return not previous.lstrip().startswith(("#", "|", "<!--"))


def _lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(0-based line number, line, whether it belongs to a fenced code block) for ``text``."""
    number = 0
    for segment in split_segments(text):
        for line in segment.raw.splitlines(keepends=True):
            yield number, line, segment.is_code
            number += 1


def _check_sections(example: ParsedExample) -> list[InputProblem]:
    kind = example.meta["type"]
    problems = []
    for section in REQUIRED_SECTIONS[kind]:
        if not example.sections.get(section):
            message = f"a {kind} example needs a non-empty '{SECTION_TITLES[section]}' section"
            problems.append(InputProblem(example.path, message, None, SECTION_TITLES[section]))
    if "code" in example.sections:
        blocks, block_problems = _code_blocks(example.path, example.sections["code"])
        example.code = blocks
        problems.extend(block_problems)
    before, after = migration_parts(example.code)
    if kind == "migration" and not (before and after):
        message = (
            "a migration needs the original and the result in '## Code' "
            "(under '### Before' and '### After', or two ```bbj blocks in that order)"
        )
        problems.append(InputProblem(example.path, message, None, "## Code"))
    return problems


def _code_blocks(path: str, section: str) -> tuple[list[CodeBlock], list[InputProblem]]:
    blocks: list[CodeBlock] = []
    problems: list[InputProblem] = []
    filename: str | None = None
    stage: str | None = None
    for segment in split_segments(section):
        if not segment.is_code:
            names = _FILENAME.findall(segment.raw)
            filename = names[-1] if names else filename
            stages = _STAGE.findall(segment.raw)
            stage = stages[-1].lower() if stages else stage
            continue
        language = segment.language
        if language and language not in BBJ_ALIASES:
            message = f"code block {len(blocks) + 1} is marked '{language}'; use ```bbj"
            problems.append(InputProblem(path, message, None, "## Code"))
        elif not segment.body.strip():
            message = f"code block {len(blocks) + 1} is empty"
            problems.append(InputProblem(path, message, None, "## Code"))
        else:
            blocks.append(CodeBlock(segment.body.rstrip("\n") + "\n", filename, stage))
        filename = None
    if not blocks and not problems:
        problems.append(InputProblem(path, "has no ```bbj code block", None, "## Code"))
    return blocks, problems


def migration_parts(blocks: list[CodeBlock]) -> tuple[list[CodeBlock], list[CodeBlock]]:
    """(original, result) blocks of a migration."""
    if any(block.stage for block in blocks):
        before = [b for b in blocks if b.stage == "before"]
        return before, [b for b in blocks if b.stage != "before"]
    return blocks[:1], blocks[1:]


def project_files(blocks: list[CodeBlock]) -> tuple[tuple[str, str], ...]:
    """(file name, code) of a multi-file example: two or more differently named blocks."""
    named = [(b.filename, b.code) for b in blocks if b.filename]
    if len(named) < 2 or len(named) != len(blocks) or len({n for n, _ in named}) != len(named):
        return ()
    return tuple((str(name), code) for name, code in named)


def to_example(parsed: ParsedExample, order: int) -> Example:
    meta = parsed.meta
    generations = meta["generation"]
    generations = tuple(generations) if isinstance(generations, list) else (generations,)
    user, assistant = _RENDERERS[meta["type"]](parsed)
    return Example(
        messages=(Message("user", user.strip()), Message("assistant", assistant.strip())),
        source=parsed.path,
        order=order,
        origin="markdown",
        kind=meta["type"],
        generations=generations,
        title=meta["title"],
        declared_code=tuple(block.code for block in parsed.code),
        files=() if meta["type"] == "migration" else project_files(parsed.code),
    )


def _render_code(blocks: list[CodeBlock]) -> str:
    parts = []
    for block in blocks:
        label = f"`{block.filename}`:\n\n" if block.filename else ""
        parts.append(label + fence(block.code))
    return "\n\n".join(parts)


def _outcome(parsed: ParsedExample) -> str:
    parts = []
    if parsed.sections.get("behavior"):
        parts.append("When it runs: " + parsed.sections["behavior"])
    output = parsed.sections.get("output")
    if output:
        has_fence = has_code_block(output)
        parts.append("Output:\n\n" + (output if has_fence else fence(output, "text")))
    return "\n\n".join(parts)


def _target(parsed: ParsedExample) -> str:
    names = _generation_names(parsed.meta["generation"])
    return f" It should be {' or '.join(names)}." if names else ""


def _generation_names(value: str | list[str] | None) -> list[str]:
    values = [value] if isinstance(value, str) else (value or [])
    return [GENERATION_NAMES[g] for g in values if g in GENERATION_NAMES]


def _task(parsed: ParsedExample) -> str:
    task = (parsed.meta.get("description") or parsed.meta["title"]).strip()
    return task if task.endswith((".", "?", "!")) else task + "."


def _completion(parsed: ParsedExample) -> tuple[str, str]:
    user = f"Write BBj code for this task: {_task(parsed)}{_target(parsed)}"
    answer = [_render_code(parsed.code), parsed.sections.get("explanation", ""), _outcome(parsed)]
    return user, "\n\n".join(part for part in answer if part)


def _comprehension(parsed: ParsedExample) -> tuple[str, str]:
    user = f"What does this BBj code do?\n\n{_render_code(parsed.code)}"
    answer = [parsed.sections["explanation"], _outcome(parsed)]
    return user, "\n\n".join(part for part in answer if part)


def _migration(parsed: ParsedExample) -> tuple[str, str]:
    meta = parsed.meta
    source = " or ".join(_generation_names(meta.get("from_generation"))) or "a BBj program"
    target = (
        " or ".join(_generation_names(meta.get("to_generation") or meta["generation"]))
        or "a modern BBj program"
    )
    note = f" {meta['description']}" if meta.get("description") else ""
    before, after = migration_parts(parsed.code)
    user = (
        f"Migrate this code, {source}, so that it becomes {target}.{note}\n\n{_render_code(before)}"
    )
    answer = [
        _render_code(after),
        parsed.sections.get("explanation", ""),
        _outcome(parsed),
    ]
    return user, "\n\n".join(part for part in answer if part)


def _explanation(parsed: ParsedExample) -> tuple[str, str]:
    title = parsed.meta["title"]
    question = parsed.meta.get("description") or (
        title if title.endswith("?") else f"Explain this BBj topic: {title}"
    )
    example = f"For example:\n\n{_render_code(parsed.code)}" if parsed.code else ""
    answer = [parsed.sections["explanation"], example, _outcome(parsed)]
    return question, "\n\n".join(part for part in answer if part)


_RENDERERS = {
    "completion": _completion,
    "comprehension": _comprehension,
    "migration": _migration,
    "explanation": _explanation,
}
