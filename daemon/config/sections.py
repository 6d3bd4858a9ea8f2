"""The daemon's settings: one frozen dataclass per ``[section]`` of ``config.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import get_type_hints

from daemon.config.schema import setting


@dataclass(frozen=True)
class ServerSettings:
    """[server]: where the HTTP API listens and whom it answers."""

    host: str = setting(
        "127.0.0.1", "Address to bind. Keep it on loopback unless you know why not."
    )
    port: int = setting(11435, "TCP port (11434 is Ollama's, 8080 llama-server's).")
    allowed_origins: tuple[str, ...] = setting(
        (), "Browser origins allowed to call the API (none by default: no CORS)."
    )
    allowed_hosts: tuple[str, ...] = setting(
        (), "Extra Host header names accepted besides loopback names (DNS-rebinding defence)."
    )
    log_level: str = setting("info", "Log level: debug, info, warning or error.")
    watch: bool = setting(
        True, "Reload when the config file, the model store or the model changes."
    )


@dataclass(frozen=True)
class ModelSettings:
    """[model]: the model the embedded llama.cpp serves."""

    path: str = setting(
        "", "Model to serve: a name from the model store or a path to a .gguf file."
    )
    n_ctx: int = setting(4096, "Context window in tokens (capped at the model's training context).")
    n_threads: int = setting(
        0,
        "CPU threads for llama.cpp's generation and prompt evaluation; 0 uses all cores but "
        "one (spin-waiting threads on a contended core are several times slower).",
    )
    n_gpu_layers: int = setting(
        0, "Layers to offload to a GPU; -1 offloads all, 0 runs on the CPU."
    )
    fim_format: str = setting(
        "auto", "FIM format: auto (detected from the vocabulary), qwen2.5-coder, starcoder2, …"
    )


@dataclass(frozen=True)
class FimSettings:
    """[fim]: fill-in-the-middle completion."""

    max_tokens: int = setting(96, "Most tokens one completion may generate.")
    temperature: float = setting(0.0, "Sampling temperature for completions (0 = greedy).")
    prefix_share: float = setting(
        0.875,
        "Share of the prompt budget given to the text before the cursor; the rest (128 of the "
        "default 1024 tokens) holds the suffix, which every keystroke re-evaluates.",
    )
    max_prompt_tokens: int = setting(
        1024,
        "Prompt budget in tokens, sized for a CPU: a cold 1024-token prompt takes about 2 s "
        "for a 0.5B model on 2 cores, a keystroke re-evaluates only the suffix. Raise it with "
        "a GPU; 0 means the context window minus max_tokens.",
    )
    time_budget_ms: int = setting(
        1500,
        "Generation time per completion, counted from its first token (prompt evaluation is "
        "not counted: it is cancelled instead when a newer keystroke supersedes it); when it "
        "ends, complete lines are kept, or the partial first line when none is complete.",
    )
    cache_size: int = setting(256, "Recent completions kept to answer typed-ahead requests.")


@dataclass(frozen=True)
class ChatSettings:
    """[chat]: defaults of chat requests."""

    max_tokens: int = setting(1024, "Default most tokens for a chat answer.")
    temperature: float = setting(0.2, "Default sampling temperature for chat.")


@dataclass(frozen=True)
class CheckSettings:
    """[check]: the compiler check of generated code."""

    checker: str = setting("auto", "Compiler check: auto (bbjcpl if found), bbjcpl or builtin.")
    bbjcpl: str = setting("", "Path to bbjcpl; empty searches $BBJ_HOME/bin, then PATH.")
    timeout_s: float = setting(10.0, "Seconds before a bbjcpl run is killed.")
    chat: str = setting("fix", "Chat code check: fix (generate→check→fix), annotate or off.")
    max_fix_attempts: int = setting(2, "Most fix rounds in the chat generate→check→fix loop.")
    fim: bool = setting(True, "Check every completion; one that adds compile errors is not shown.")
    fim_candidates: int = setting(2, "Completions tried (within the time budget) before giving up.")
    bbjcpl_retry_s: float = setting(
        60.0, "Seconds a bbjcpl that timed out rests (the built-in checker serves) before a retry."
    )


@dataclass(frozen=True)
class BackendSettings:
    """[backend]: which engine generates (embedded llama.cpp, Ollama, an upstream)."""

    kind: str = setting(
        "auto", "auto (embedded llama.cpp, then Ollama, then the upstream), llama, ollama, openai."
    )
    ollama_url: str = setting("http://127.0.0.1:11434", "Where Ollama listens.")
    ollama_model: str = setting("", "Model name in Ollama; empty uses the served model's name.")
    ollama_keep_alive: str = setting(
        "30m", "How long Ollama keeps the model loaded after a request."
    )
    ollama_push: bool = setting(
        True, "Register the local GGUF with Ollama when it lacks the model."
    )
    upstream_url: str = setting("", "A team's OpenAI-compatible server, including /v1.")
    upstream_model: str = setting("bbj-coder", "The model's name on the upstream server.")
    upstream_api_key_file: str = setting("", "File holding the upstream's API key.")
    upstream_api_key_env: str = setting("", "Environment variable holding the upstream's API key.")
    upstream_ca_bundle: str = setting("", "Extra CA certificates (PEM) to trust for the upstream.")
    retry_backoff_s: float = setting(30.0, "Seconds before a failed backend is tried again.")
    upstream_read_timeout_s: float = setting(
        20.0, "Seconds the team server may go silent mid-answer before the answer fails."
    )


@dataclass(frozen=True)
class NextEditSettings:
    """[next_edit]: next-edit suggestions (the edit after the one the user just made)."""

    enabled: bool = setting(
        True, "Serve POST /v1/bbj/next-edit (needs a Qwen2.5-Coder-family model)."
    )
    lines_above: int = setting(10, "Lines above the cursor in the window the model rewrites.")
    lines_below: int = setting(10, "Lines below the cursor in the window the model rewrites.")
    max_tokens: int = setting(512, "Most tokens the model may write (the whole updated window).")
    max_prompt_tokens: int = setting(
        1536,
        "Prompt budget in tokens, sized for a CPU like fim.max_prompt_tokens (the window, its "
        "history and context files; about 9 s cold for a 0.5B model on 2 cores, far less once "
        "its start is in the KV). Raise it with a GPU; 0 means the context window minus "
        "max_tokens.",
    )
    time_budget_ms: int = setting(
        8000,
        "Give up (no suggestion) when the updated window is not written this long after its "
        "first token (a local prompt evaluation is not counted; an upstream's is). A 21-line "
        "window is about 250 tokens: some 6 s on one CPU thread for a 0.5B model.",
    )
    prompt_lookup_tokens: int = setting(
        0,
        "Tokens drafted by prompt-lookup decoding on the embedded llama.cpp (0: off). Off by "
        "default: on CPU a draft batch costs more than the single steps it saves "
        "(tests/bench/next_edit.py).",
    )
    prompt_lookup_ngram: int = setting(2, "Longest n-gram prompt-lookup decoding matches.")
    max_history_hunks: int = setting(8, "Most edit-history hunks one request may send.")
    max_history_chars: int = setting(16000, "Most characters of edit history one request may send.")
    check: bool = setting(
        True, "Compile-check every suggestion; one that adds errors to the file is not shown."
    )


@dataclass(frozen=True)
class WorkspaceSettings:
    """[workspace]: the index of the workspace's BBj code that feeds FIM and chat context."""

    enabled: bool = setting(True, "Index the workspace roots and use them as context.")
    roots: tuple[str, ...] = setting(
        (), "Folders of the workspace's BBj code; the index is off while this is empty."
    )
    prefix: tuple[str, ...] = setting(
        (), "The BBj PREFIX search path: folders `use ::path::` and CALL look in (indexed too)."
    )
    budget_tokens: int = setting(
        768, "Most prompt tokens workspace signatures may take in a completion or chat answer."
    )
    max_files: int = setting(10000, "Most files indexed; beyond this the rest is left out.")
    watch: bool = setting(True, "Re-index files as they change on disk.")


@dataclass(frozen=True)
class Config:
    """The whole ``config.toml``: one table per section."""

    server: ServerSettings = field(default_factory=ServerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    fim: FimSettings = field(default_factory=FimSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    check: CheckSettings = field(default_factory=CheckSettings)
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    workspace: WorkspaceSettings = field(default_factory=WorkspaceSettings)


SECTIONS: dict[str, type] = dict(get_type_hints(Config))
"""Section name → its settings class, in ``config show`` order."""
