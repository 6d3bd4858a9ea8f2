"""``DataConfig``: every setting of ``bbj-coder train data``, loadable from TOML and the CLI."""

from __future__ import annotations

import sys
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from fim.language import SOURCE_EXTENSIONS
from trainer.data.records import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SPAN_TYPES: tuple[str, ...] = ("line", "block", "random")

DEFAULT_SYSTEM_PROMPTS: tuple[str, ...] = (
    "You are bbj-coder, an expert in BBj (BASIS International's Business BASIC for Java). "
    "Answer with correct, compiling BBj code in ```bbj blocks and explain it briefly.",
    "You are a helpful assistant for BBj developers. Write idiomatic BBj that compiles, "
    "put code in ```bbj fences, and keep explanations short and precise.",
    "You are an experienced BBj programmer who knows character, Visual PRO/5, BBj GUI and DWC "
    "programs. Give working BBj code and say which generation it targets when it matters.",
    "You help people read, write and modernise BBj programs. Be accurate; when you show code, "
    "show complete BBj in ```bbj blocks.",
)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class DataConfig:
    """Settings of one data build. Paths in a TOML file are relative to that file."""

    markdown: tuple[Path, ...] = field(
        default=(), metadata=_help("Directories or files of Markdown examples (*.md).")
    )
    chatml: tuple[Path, ...] = field(
        default=(), metadata=_help("ChatML JSONL files, or directories holding *.jsonl files.")
    )
    sources: tuple[Path, ...] = field(
        default=(), metadata=_help("Roots of BBj source trees for FIM and pretraining data.")
    )
    out: Path = field(
        default=Path("data-build"),
        metadata=_help("Output root; each build goes to a new OUT/vNNNN/ directory."),
    )
    tokenizer: Path | None = field(
        default=None,
        metadata=_help(
            "tokenizer.json, or a model directory holding one. Without it token counts are "
            "UTF-8 byte counts (an upper bound for byte-level BPE)."
        ),
    )
    max_seq_len: int = field(
        default=4096, metadata=_help("Token limit of every FIM sample and pretraining record.")
    )
    val_fraction: float = field(
        default=0.1, metadata=_help("Share of prompts (and of source files) held out.")
    )
    seed: int = field(default=0, metadata=_help("Seed of every random choice (split, FIM)."))
    system_prompts: tuple[str, ...] = field(
        default=DEFAULT_SYSTEM_PROMPTS,
        metadata=_help("1-5 system prompts given to conversations that have none."),
    )
    check_code: bool = field(
        default=True, metadata=_help("Run every example's BBj code through the checker.")
    )
    drop_failing: bool = field(
        default=False, metadata=_help("Drop examples whose code fails the checker.")
    )
    drop_no_code: bool = field(
        default=False, metadata=_help("Drop answers without code to a prompt that asked for it.")
    )
    near_duplicate_threshold: float = field(
        default=0.85,
        metadata=_help("Word-trigram Jaccard similarity at which two prompts are duplicates."),
    )
    extensions: tuple[str, ...] = field(
        default=SOURCE_EXTENSIONS, metadata=_help("File name endings that mark BBj source.")
    )
    exclude: tuple[str, ...] = field(
        default=(".*", "node_modules", "__pycache__"),
        metadata=_help(
            "Glob patterns; a file found in an input directory is skipped when its path "
            "below that directory, or any part of that path, matches one."
        ),
    )
    max_file_bytes: int = field(
        default=1_000_000, metadata=_help("Source files larger than this are skipped.")
    )
    max_line_bytes: int = field(
        default=8_000_000, metadata=_help("JSONL lines longer than this are skipped unread.")
    )
    fim_rate: float = field(
        default=0.5, metadata=_help("Share of source files that yield FIM samples.")
    )
    fim_samples_per_file: int = field(
        default=2, metadata=_help("FIM samples drawn from each chosen file.")
    )
    fim_span_types: tuple[str, ...] = field(
        default=SPAN_TYPES, metadata=_help("Middle spans to draw: line, block, random.")
    )
    fim_repo_rate: float = field(
        default=0.3,
        metadata=_help("Share of FIM samples given other files of the project as context."),
    )
    fim_repo_max_files: int = field(
        default=3, metadata=_help("Most context files in one repo-level FIM sample.")
    )
    fim_max_middle_tokens: int = field(
        default=256,
        metadata=_help(
            "Longest middle (completion) of a FIM sample, in tokens; at most a "
            "quarter of max_seq_len is used."
        ),
    )
    progress: bool = field(default=True, metadata=_help("Show progress bars on stderr."))


CONFIG_FIELDS: dict[str, typing.Any] = typing.get_type_hints(DataConfig)


def field_help(name: str) -> str:
    return next(f.metadata["help"] for f in fields(DataConfig) if f.name == name)


def load_data_config(path: Path | None, overrides: dict[str, object]) -> DataConfig:
    """Read ``path`` (keys at the top level or in a ``[data]`` table), then apply ``overrides``.

    Override paths are relative to the working directory; ``None`` values are ignored.
    """
    config = DataConfig()
    if path is not None:
        config = _apply(config, _read_toml(path), str(path), path.parent)
    given = {k: v for k, v in overrides.items() if v is not None}
    config = _apply(config, given, "the command line", Path.cwd())
    _validate(config)
    return config


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise DataError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    section = document.get("data")
    return section if isinstance(section, dict) else document


def _apply(config: DataConfig, values: dict[str, object], where: str, base: Path) -> DataConfig:
    changes = {}
    for key, value in values.items():
        if key not in CONFIG_FIELDS:
            known = ", ".join(CONFIG_FIELDS)
            raise DataError(f"{where}: unknown key '{key}' (known keys: {known})")
        changes[key] = _coerce(key, value, where, base)
    return replace(config, **changes)


def _coerce(key: str, value: object, where: str, base: Path) -> object:
    kind = CONFIG_FIELDS[key]
    expected, convert = _COERCERS[kind]
    converted = convert(value, base)
    if converted is _INVALID:
        raise DataError(f"{where}: key '{key}' must be {expected}, got {value!r}")
    return converted


_INVALID = object()


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_path(value: object) -> bool:
    return isinstance(value, (str, Path))


def _path_list(value: object, base: Path) -> object:
    items = [value] if _is_path(value) else value
    if isinstance(items, (list, tuple)) and all(_is_path(i) for i in items):
        return tuple(_resolve(base, i) for i in items)
    return _INVALID


def _string_list(value: object, base: Path) -> object:
    if isinstance(value, (list, tuple)) and all(isinstance(i, str) for i in value):
        return tuple(value)
    return _INVALID


_COERCERS: dict[object, tuple[str, typing.Callable[[object, Path], object]]] = {
    bool: ("true or false", lambda v, _: v if isinstance(v, bool) else _INVALID),
    int: ("an integer", lambda v, _: v if _is_number(v) and isinstance(v, int) else _INVALID),
    float: ("a number", lambda v, _: float(v) if _is_number(v) else _INVALID),
    Path: ("a path", lambda v, base: _resolve(base, v) if _is_path(v) else _INVALID),
    Path | None: ("a path", lambda v, base: _resolve(base, v) if _is_path(v) else _INVALID),
    tuple[Path, ...]: ("a path or a list of paths", _path_list),
    tuple[str, ...]: ("a list of strings", _string_list),
}


def _resolve(base: Path, value: str | Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _validate(config: DataConfig) -> None:
    checks = (
        (config.max_seq_len >= 64, "max_seq_len", "must be at least 64"),
        (0.0 < config.val_fraction < 1.0, "val_fraction", "must be between 0 and 1"),
        (0.0 <= config.fim_rate <= 1.0, "fim_rate", "must be between 0 and 1"),
        (0.0 <= config.fim_repo_rate <= 1.0, "fim_repo_rate", "must be between 0 and 1"),
        (
            0.0 < config.near_duplicate_threshold <= 1.0,
            "near_duplicate_threshold",
            "must be above 0 and at most 1",
        ),
        (1 <= len(config.system_prompts) <= 5, "system_prompts", "must hold 1 to 5 prompts"),
        (all(p.strip() for p in config.system_prompts), "system_prompts", "has an empty prompt"),
        (config.fim_samples_per_file >= 1, "fim_samples_per_file", "must be at least 1"),
        (config.fim_repo_max_files >= 1, "fim_repo_max_files", "must be at least 1"),
        (config.fim_max_middle_tokens >= 1, "fim_max_middle_tokens", "must be at least 1"),
        (config.max_file_bytes >= 1, "max_file_bytes", "must be at least 1"),
        (config.max_line_bytes >= 1, "max_line_bytes", "must be at least 1"),
        (bool(config.extensions), "extensions", "must name at least one extension"),
        (
            set(config.fim_span_types) <= set(SPAN_TYPES) and bool(config.fim_span_types),
            "fim_span_types",
            f"must be a non-empty list of {', '.join(SPAN_TYPES)}",
        ),
    )
    for ok, key, message in checks:
        if not ok:
            raise DataError(f"config key '{key}' {message}")
