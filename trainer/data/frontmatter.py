"""YAML front matter of Markdown examples: splitting it off and validating it against the schema.

Scalars are read as strings (YAML's base loader), so ``requires_version: 23.00`` stays "23.00".
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from trainer.data.records import InputProblem

SCHEMA_NAME = "example.schema.json"


@cache
def example_schema() -> dict[str, Any]:
    """The JSON Schema for example front matter that ships in ``trainer/schemas``."""
    text = resources.files("trainer.schemas").joinpath(SCHEMA_NAME).read_text(encoding="utf-8")
    return json.loads(text)


def split_front_matter(path: str, text: str) -> tuple[str, str, int] | InputProblem:
    """Return (front matter, body, first body line number) or the problem with the file."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return InputProblem(path, "no YAML front matter: the file must start with a '---' line", 1)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return InputProblem(path, "the front matter has no closing '---' line", 1)


def parse_front_matter(
    path: str, yaml_text: str
) -> tuple[dict[str, Any], dict[str, int]] | list[InputProblem]:
    """Parse and validate; returns (fields, line of each key) or every problem found."""
    import yaml

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)(yaml_text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return [InputProblem(path, f"the front matter is not valid YAML ({reason})", line)]
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        return [InputProblem(path, "the front matter must be a mapping of 'key: value' lines", 2)]
    key_lines = _key_lines(node)
    problems = schema_problems(path, data, key_lines)
    return problems if problems else (data, key_lines)


def _key_lines(node: Any) -> dict[str, int]:
    """File line number of each top-level key (line 1 is the opening '---')."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + 2 for key, _ in node.value}


def schema_problems(
    path: str, data: dict[str, Any], key_lines: dict[str, int]
) -> list[InputProblem]:
    """Every schema violation of ``data`` as a sentence naming the file, line and field."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(example_schema())
    problems = [_describe(path, error, data, key_lines) for error in validator.iter_errors(data)]
    return sorted(problems, key=lambda p: (p.line or 0, p.field or "", p.message))


def _describe(
    path: str, error: Any, data: dict[str, Any], key_lines: dict[str, int]
) -> InputProblem:
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties":
        known = ", ".join(example_schema()["properties"])
        extra = sorted(set(data) - set(example_schema()["properties"]))
        name = extra[0] if extra else "?"
        return InputProblem(path, f"unknown key (allowed keys: {known})", key_lines.get(name), name)
    if error.validator == "required":
        name = error.message.split("'")[1]
        if keys:
            return InputProblem(path, f"'{name}' is required here", key_lines.get(str(keys[0])))
        return InputProblem(path, "is required but missing", None, name)
    name = _field_name(keys)
    line = key_lines.get(str(keys[0])) if keys else None
    return InputProblem(path, _message(error), line, name)


def _field_name(keys: list[Any]) -> str:
    name = str(keys[0]) if keys else "front matter"
    for key in keys[1:]:
        name += f"[{key}]" if isinstance(key, int) else f".{key}"
    return name


def _message(error: Any) -> str:
    value = error.instance
    if error.validator == "enum":
        return f"{value!r} is not one of {', '.join(error.validator_value)}"
    if error.validator in ("oneOf", "anyOf"):
        schema = example_schema()
        top = error.absolute_path[0] if error.absolute_path else "generation"
        single = schema["properties"]["generation"]["oneOf"][0]
        enum = single["enum"] if top == "generation" else schema["$defs"]["generation"]["enum"]
        allowed = ", ".join(enum)
        return f"{value!r} is not a generation or a list of them (generations: {allowed})"
    if error.validator == "type":
        return f"must be of type {error.validator_value}, got {value!r}"
    if error.validator == "minLength":
        return "must not be empty"
    return str(error.message)
