"""The daemon's exceptions, in one tree.

    BbjCoderError
    ├── ConfigError            the config file, an env override or a flag is invalid
    ├── InstanceError          a second daemon, a stale lock, a state file we cannot write
    ├── TokenError             the bearer-token file is unreadable or has unsafe permissions
    ├── ModelError             a model cannot be used
    │   ├── ModelNotFoundError     no model with that name or path
    │   └── ModelLoadError         the file is corrupt, truncated or not a GGUF
    ├── StoreError             the model store (manifest, import, sha256)
    └── BackendError           generation failed
        ├── BackendUnavailableError  the backend cannot serve at all (down, unreachable, not
        │                            loaded): an ``auto`` chain moves on to the next one
        ├── GenerationError          this one request failed; the backend is still fine
        └── PromptTooLongError       a chat prompt does not fit the context window

Errors from wrapped libraries (llama_cpp, gguf, tomllib) are mapped at the edge with
``raise … from exc`` so callers only ever catch these.
"""

from __future__ import annotations


class BbjCoderError(Exception):
    """Base class: ``str(exc)`` is always a sentence a user can act on."""


class ConfigError(BbjCoderError):
    pass


class InstanceError(BbjCoderError):
    pass


class TokenError(BbjCoderError):
    pass


class ModelError(BbjCoderError):
    pass


class ModelNotFoundError(ModelError):
    pass


class ModelLoadError(ModelError):
    pass


class StoreError(BbjCoderError):
    pass


class BackendError(BbjCoderError):
    pass


class BackendUnavailableError(BackendError):
    pass


class GenerationError(BackendError):
    pass


class PromptTooLongError(BackendError):
    pass
