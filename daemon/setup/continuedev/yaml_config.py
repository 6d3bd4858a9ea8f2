"""Edit Continue's config.yaml as text, so everything but bbj-coder's entries stays byte-for-byte.

PyYAML's node tree gives the exact position of every value; bbj-coder's ``models`` items (found
by their names) are cut out by those positions and new ones are written where the first one
was. Every edit is re-parsed and compared with the intended data before it is returned: text
surgery that went wrong is refused, never written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemon.errors import BbjCoderError
from daemon.setup.continuedev.entries import (
    MANAGED_NAMES,
    MARKER,
    Endpoint,
    model_entries,
    render_entries,
    render_new_config,
)

TOP_KEYS = "name: Local config\nversion: 1.0.0\nschema: v1\n"


class ContinueConfigError(BbjCoderError):
    """Continue's config cannot be read or edited safely; nothing was written."""


@dataclass(frozen=True)
class Parsed:
    text: str
    data: Any
    root: Any  # yaml.Node | None


def parse_yaml(text: str, where: str) -> Parsed:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContinueConfigError(
            f"{where} is not valid YAML: {problem}{line}. Fix it (Continue cannot read it "
            "either) and run the command again; the file was left as it is."
        ) from exc
    if root is not None and not _is_block_mapping(root):
        raise ContinueConfigError(
            f"{where} is not a Continue config (its top level is not a block mapping of keys); "
            "the file was left as it is."
        )
    return Parsed(text, data, root)


def _is_block_mapping(node: Any) -> bool:
    import yaml

    return isinstance(node, yaml.MappingNode) and not node.flow_style


def is_managed(item: Any) -> bool:
    return isinstance(item, dict) and item.get("name") in MANAGED_NAMES


def managed_models(data: Any) -> list[Any]:
    models = data.get("models") if isinstance(data, dict) else None
    return [m for m in models if is_managed(m)] if isinstance(models, list) else []


# --- positions in the text -------------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _next_line(text: str, index: int) -> int:
    """Start of the line after the one holding ``index`` (already a line start: itself)."""
    if index == 0 or text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _leaf_end(node: Any) -> int:
    """Where a node's last character is; block collections' own end marks run past comments."""
    import yaml

    if isinstance(node, yaml.CollectionNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _leaf_end(last[1] if isinstance(node, yaml.MappingNode) else last)
    return node.end_mark.index


def _dash(text: str, item: Any) -> int:
    index = item.start_mark.index - 1
    while index >= 0 and text[index] == " ":
        index -= 1
    if index < 0 or text[index] != "-":
        raise ContinueConfigError(
            "A bbj-coder entry in the Continue config is written in a form this command does "
            "not edit (anchors or tags); remove the bbj-coder entries by hand and run it again."
        )
    return index


def _marker_start(text: str, line_start: int) -> int:
    """Include the "# bbj-coder:" comment block written just above one of our items."""
    start = line_start
    while start > 0:
        previous = _line_start(text, start - 1)
        line = text[previous : start - 1].strip()
        if not line.startswith("#"):
            break
        start = previous
        if line.startswith(MARKER):
            return start
    return line_start


def _item_span(text: str, item: Any) -> tuple[int, int]:
    start = _marker_start(text, _line_start(text, _dash(text, item)))
    return start, _next_line(text, _leaf_end(item))


def _key_value(root: Any, key: str) -> tuple[Any, Any] | None:
    for key_node, value in root.value:
        if getattr(key_node, "value", None) == key:
            return key_node, value
    return None


def _managed_nodes(sequence: Any) -> list[Any]:
    import yaml

    found = []
    for item in sequence.value:
        if isinstance(item, yaml.MappingNode):
            name = _key_value(item, "name")
            if name is not None and getattr(name[1], "value", None) in MANAGED_NAMES:
                found.append(item)
    return found


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return text


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


# --- the two edits -----------------------------------------------------------------------------


def _models_sequence(parsed: Parsed, where: str) -> tuple[Any, Any] | None:
    """(key node, value node) of ``models``; None when the key is absent."""
    import yaml

    found = _key_value(parsed.root, "models")
    if found is None:
        return None
    value = found[1]
    empty = isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null")
    empty = empty or (isinstance(value, yaml.SequenceNode) and not value.value)
    if empty or (isinstance(value, yaml.SequenceNode) and not value.flow_style):
        return found
    raise ContinueConfigError(
        f"'models' in {where} is not a block list (one '- name: …' item per line); rewrite it "
        "as one, or add the bbj-coder entries from bbj-coder's continue-config/ folder by hand."
    )


def _is_empty(value: Any) -> bool:
    """``models:`` with nothing, ``~``, ``null`` or ``[]``."""
    return isinstance(value.value, str) or not value.value


def _dash_column(text: str, sequence: Any) -> int:
    dash = _dash(text, sequence.value[0])
    return dash - _line_start(text, dash)


def _install_text(parsed: Parsed, endpoint: Endpoint, where: str) -> str:
    text = parsed.text
    if parsed.root is None:  # empty, or only comments
        if not text.strip():
            return render_new_config(endpoint)
        return _with_newline(text) + TOP_KEYS + "models:\n" + render_entries(endpoint, 2)
    key_column = parsed.root.value[0][0].start_mark.column
    found = _models_sequence(parsed, where)
    if found is None:
        models = " " * key_column + "models:\n" + render_entries(endpoint, key_column + 2)
        return _with_newline(text) + models
    key, value = found
    if _is_empty(value):
        text = text[: value.start_mark.index] + text[value.end_mark.index :]
        at = _next_line(text, key.end_mark.index)
        return _with_newline(text[:at]) + render_entries(endpoint, key_column + 2) + text[at:]
    # New entries go first (Continue preselects the first model of a role), or where ours were.
    spans = [_item_span(text, item) for item in _managed_nodes(value)]
    at = min(spans)[0] if spans else _next_line(text, key.end_mark.index)
    column = _dash_column(text, value)
    text = _cut(text, spans)
    return text[:at] + render_entries(endpoint, column) + text[at:]


def _uninstall_text(parsed: Parsed, where: str) -> str:
    if parsed.root is None or (found := _models_sequence(parsed, where)) is None:
        return parsed.text
    key, value = found
    if _is_empty(value):
        return parsed.text
    ours = _managed_nodes(value)
    text = _cut(parsed.text, [_item_span(parsed.text, item) for item in ours])
    if ours and len(ours) == len(value.value):
        # An empty block list reads as null, which Continue's schema rejects.
        colon = parsed.text.index(":", key.end_mark.index) + 1
        text = text[:colon] + " []" + text[colon:]
    return text


# --- checking the result -------------------------------------------------------------------


def _others(data: Any) -> tuple[dict[str, Any], list[Any]]:
    rest = dict(data) if isinstance(data, dict) else {}
    models = rest.pop("models", None) or []
    return rest, [m for m in models if not is_managed(m)]


def _checked(before: Parsed, after: str, wanted: list[dict[str, Any]], where: str) -> str:
    result = parse_yaml(after, where)
    old_rest, old_models = _others(before.data)
    new_rest, new_models = _others(result.data)
    if before.root is None:
        old_rest = {**old_rest, **{k: new_rest.get(k) for k in ("name", "version", "schema")}}
    if (old_rest, old_models, managed_models(result.data)) != (new_rest, new_models, wanted):
        raise ContinueConfigError(
            f"bbj-coder could not edit {where} safely, so it was left as it is. Add the "
            "bbj-coder entries by hand from bbj-coder's continue-config/ folder."
        )
    return after


def _guarded(edit: Callable[[], str], before: Parsed, wanted: list[Any], where: str) -> str:
    try:
        after = edit()
    except (IndexError, ValueError, AttributeError) as exc:
        raise ContinueConfigError(
            f"bbj-coder could not edit {where} safely ({exc}), so it was left as it is."
        ) from exc
    return _checked(before, after, wanted, where)


def _keeping_line_ends(text: str, edit: Callable[[str], str]) -> str:
    """Edit with \\n line ends, then give a Windows (CRLF) file its CRLF line ends back."""
    if "\r\n" not in text:
        return edit(text)
    return edit(text.replace("\r\n", "\n")).replace("\n", "\r\n")


def _install(text: str, endpoint: Endpoint, where: str) -> str:
    parsed = parse_yaml(text, where)
    wanted = model_entries(endpoint)
    if managed_models(parsed.data) == wanted:
        return text
    return _guarded(lambda: _install_text(parsed, endpoint, where), parsed, wanted, where)


def _uninstall(text: str, where: str) -> str:
    parsed = parse_yaml(text, where)
    if not managed_models(parsed.data):
        return text
    return _guarded(lambda: _uninstall_text(parsed, where), parsed, [], where)


def install_yaml(text: str, endpoint: Endpoint, where: str) -> str:
    """``text`` with bbj-coder's entries added or updated; unchanged when already current."""
    return _keeping_line_ends(text, lambda t: _install(t, endpoint, where))


def uninstall_yaml(text: str, where: str) -> str:
    """``text`` without bbj-coder's entries; unchanged when there are none."""
    return _keeping_line_ends(text, lambda t: _uninstall(t, where))
