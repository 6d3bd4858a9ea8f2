"""``DataConfig``: every setting of ``bbj-coder train data``, from a TOML file and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from daemon.config import FimSettings as ServeFim
from daemon.config import ModelSettings as ServeModel
from daemon.config import NextEditSettings as ServeNextEdit
from daemon.config import Origin, file_layer, flag_layer, read_toml, resolve, setting
from daemon.config import WorkspaceSettings as ServeWorkspace
from daemon.errors import ConfigError
from fim.language import SOURCE_EXTENSIONS
from trainer.data.records import DataError

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


@dataclass(frozen=True)
class DataConfig:
    """Settings of one data build. Paths in a TOML file are relative to that file."""

    markdown: tuple[Path, ...] = setting((), "Directories or files of Markdown examples (*.md).")
    chatml: tuple[Path, ...] = setting(
        (), "ChatML JSONL files, or directories holding *.jsonl files."
    )
    sources: tuple[Path, ...] = setting(
        (), "Roots of BBj source trees for FIM and pretraining data."
    )
    out: Path = setting(
        Path("data-build"), "Output root; each build goes to a new OUT/vNNNN/ directory."
    )
    tokenizer: Path | None = setting(
        None,
        "tokenizer.json, or a model directory holding one. Without it token counts are "
        "UTF-8 byte counts (an upper bound for byte-level BPE).",
    )
    max_seq_len: int = setting(4096, "Token limit of every FIM sample and pretraining record.")
    val_fraction: float = setting(
        0.1, "Share of prompts (and of source files) held out to pick the best checkpoint."
    )
    test_fraction: float = setting(
        0.1, "Share of prompts (and of source files) held out for `train eval` only."
    )
    seed: int = setting(0, "Seed of every random choice (split, FIM).")
    system_prompts: tuple[str, ...] = setting(
        DEFAULT_SYSTEM_PROMPTS, "1-5 system prompts given to conversations that have none."
    )
    check_code: bool = setting(True, "Run every example's BBj code through the checker.")
    drop_failing: bool = setting(
        True, "Drop examples whose code fails the checker (the report counts them)."
    )
    drop_no_code: bool = setting(False, "Drop answers without code to a prompt that asked for it.")
    near_duplicate_threshold: float = setting(
        0.85, "Word-trigram Jaccard similarity at which two prompts are duplicates."
    )
    extensions: tuple[str, ...] = setting(
        SOURCE_EXTENSIONS, "File name endings that mark BBj source."
    )
    exclude: tuple[str, ...] = setting(
        (".*", "node_modules", "__pycache__"),
        "Glob patterns; a file found in an input directory is skipped when its path "
        "below that directory, or any part of that path, matches one.",
    )
    max_file_bytes: int = setting(1_000_000, "Source files larger than this are skipped.")
    max_line_bytes: int = setting(8_000_000, "JSONL lines longer than this are skipped unread.")
    fim_rate: float = setting(0.5, "Share of source files that yield FIM samples.")
    fim_samples_per_file: int = setting(2, "FIM samples drawn from each chosen file.")
    fim_span_types: tuple[str, ...] = setting(
        SPAN_TYPES, "Middle spans to draw: line, block, random."
    )
    fim_repo_rate: float = setting(
        0.3, "Share of FIM samples given other files of the project as context."
    )
    fim_repo_max_files: int = setting(3, "Most context files in one repo-level FIM sample.")
    fim_max_middle_tokens: int = setting(
        256,
        "Longest middle (completion) of a FIM sample, in tokens; at most a "
        "quarter of max_seq_len is used.",
    )
    serve_n_ctx: int = setting(
        ServeModel().n_ctx,
        "The daemon's [model] n_ctx: FIM prompts are cut to the budget it serves with.",
    )
    serve_fim_max_tokens: int = setting(
        ServeFim().max_tokens,
        "The daemon's [fim] max_tokens (the completion's room in its prompt budget).",
    )
    serve_fim_max_prompt_tokens: int = setting(
        ServeFim().max_prompt_tokens,
        "The daemon's [fim] max_prompt_tokens; 0 means n_ctx minus max_tokens.",
    )
    serve_fim_prefix_share: float = setting(
        ServeFim().prefix_share, "The daemon's [fim] prefix_share."
    )
    fim_workspace_context: bool = setting(
        True,
        "Pin the workspace signatures the daemon pins with [workspace] on (classes a file "
        "uses, the object before the cursor, called programs) at the front of FIM prompts, "
        "indexing each project of a split as the daemon indexes a workspace.",
    )
    serve_workspace_budget_tokens: int = setting(
        ServeWorkspace().budget_tokens,
        "The daemon's [workspace] budget_tokens: most prompt tokens pinned signatures take.",
    )
    serve_workspace_prefix: tuple[str, ...] = setting(
        (),
        "The daemon's [workspace] prefix (BBj PREFIX), as folders relative to each project's "
        "root, where `use ::path::` and CALL look.",
    )
    serve_next_edit_max_prompt_tokens: int = setting(
        ServeNextEdit().max_prompt_tokens,
        "The daemon's [next_edit] max_prompt_tokens: next-edit prompts keep the history it "
        "would keep; 0 means n_ctx minus its max_tokens.",
    )
    next_edit_repos: tuple[Path, ...] = setting(
        (), "Git repositories whose commit history becomes next-edit samples."
    )
    next_edit_noop_rate: float = setting(
        0.3, "Share of changed files that also yield a 'no edit needed' sample."
    )
    progress: bool = setting(True, "Show progress bars on stderr.")


def load_data_config(path: Path | None, overrides: dict[str, object]) -> DataConfig:
    """Read ``path`` (keys at the top level or in a ``[data]`` table), then apply ``overrides``.

    Override paths are relative to the working directory; ``None`` values are ignored.
    """
    try:
        layers = []
        if path is not None:
            file = read_toml(path)
            table = ("data",) if isinstance(file.data.get("data"), dict) else ()
            layers.append(file_layer(file, DataConfig, table=table))
        layers.append(flag_layer(overrides, DataConfig, shown=lambda _key: "the command line"))
        resolved = resolve(DataConfig(), *layers)
    except ConfigError as exc:
        raise DataError(str(exc)) from exc
    _validate(resolved.value, resolved.origins)
    return resolved.value


def _validate(config: DataConfig, origins: dict[str, Origin]) -> None:
    checks = (
        (config.max_seq_len >= 64, "max_seq_len", "must be at least 64"),
        (0.0 < config.val_fraction < 1.0, "val_fraction", "must be between 0 and 1"),
        (
            config.test_fraction >= 0.0 and config.val_fraction + config.test_fraction < 1.0,
            "test_fraction",
            "must be at least 0 and leave room for training data next to val_fraction",
        ),
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
        (config.serve_n_ctx >= 64, "serve_n_ctx", "must be at least 64"),
        (config.serve_fim_max_tokens >= 1, "serve_fim_max_tokens", "must be at least 1"),
        (
            config.serve_workspace_budget_tokens >= 0,
            "serve_workspace_budget_tokens",
            "must be at least 0",
        ),
        (
            all(_inside_project(p) for p in config.serve_workspace_prefix),
            "serve_workspace_prefix",
            "must name folders relative to a project's root, without '..'",
        ),
        (
            0.0 < config.serve_fim_prefix_share < 1.0,
            "serve_fim_prefix_share",
            "must be between 0 and 1",
        ),
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
            raise DataError(origins[key].blame(f"config key '{key}' {message}") + ".")


def _inside_project(folder: str) -> bool:
    path = PurePosixPath(folder.replace("\\", "/"))
    return bool(folder.strip()) and not path.is_absolute() and ".." not in path.parts
