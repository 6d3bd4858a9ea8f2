"""bbj-coder's exceptions: one tree with one root.

The root, :class:`BbjCoderError`, is defined in :mod:`fim.errors` (``fim`` imports nothing of
ours, yet its error belongs to the tree) and re-exported here with the daemon's own branches.
Classes defined in other modules are named with their module::

    BbjCoderError                  fim.errors: str(exc) is a sentence a user can act on
    ├── UnknownFimFormatError      fim.formats: a format name not in fim.FORMATS
    ├── NextEditInputError         fim.next_edit.text: a next-edit request that cannot be served
    │   └── CursorOutOfRangeError      the cursor is past the document's or its line's end
    ├── ConfigError                the config file, an env override or a flag is invalid
    ├── InstanceError              a second daemon, a stale lock, an unwritable state file
    ├── TokenError                 the bearer-token file is unreadable or unsafe
    ├── ModelError                 a model cannot be used
    │   ├── ModelNotFoundError         no model with that name or path
    │   ├── ModelLoadError             the file is corrupt, truncated or not a GGUF
    │   └── GGUFConversionError        daemon.models.gguf_writer: an HF Qwen2 model that
    │                                  cannot be written as GGUF
    ├── StoreError                 the model store (manifest, import, sha256)
    │   └── ModelExistsError           a model of that name is installed (import --replace)
    ├── BackendError               generation failed
    │   ├── BackendUnavailableError    the backend cannot serve at all (down, unreachable,
    │   │                              not loaded): an ``auto`` chain moves on to the next
    │   ├── GenerationError            this one request failed; the backend is still fine
    │   └── PromptTooLongError         a chat prompt does not fit the context window
    ├── CheckError                 daemon.check: the compiler check
    │   ├── CheckerConfigError         daemon.check: a checker setting that cannot work
    │   └── Expected                   daemon.check._expressions: a syntax error the built-in
    │                                  parser found (caught inside it, becomes a Diagnostic)
    ├── CatalogueError             daemon.models.catalogue: unreadable or off the schema
    ├── DownloadError              daemon.models.download: fetching a catalogue model
    │   ├── DownloadSourceError        the source is unreadable or differs from the catalogue
    │   ├── DownloadTransferError      the connection failed part-way (run again to resume)
    │   ├── DownloadDiskError          the models folder cannot be written
    │   │   └── InsufficientSpaceError     not enough free space
    │   ├── DownloadIntegrityError     the bytes are not what the catalogue promised
    │   └── DownloadCancelledError     the user cancelled (the .part file is kept)
    ├── BundleError                daemon.setup.bundle.wheels: building or setting up the
    │                              offline bundle
    ├── ContinueConfigError        daemon.setup.continuedev.yaml_config: Continue's config
    │                              cannot be read or edited safely
    ├── McpClientConfigError       daemon.setup.mcpclients.install: an MCP client's config
    │                              cannot be read or edited safely
    ├── WorkspaceDisabledError     daemon.mcp_server.services: the daemon has no workspace index
    ├── ApiError                   daemon.server.api.errors: a request refused with an HTTP
    │                              status, rendered in the caller's dialect
    ├── DaemonClientError          daemon.client: talking to a running daemon
    │   ├── DaemonUnreachableError     nothing answers at the URL (not running, wrong port)
    │   └── DaemonHTTPError            the daemon answered with an error status
    ├── WorkspaceError             daemon.workspace.paths: the workspace index cannot do what
    │   │                          was asked (off, unreadable index file, not a BBj file)
    │   ├── OutsideWorkspaceError      a path outside every workspace root
    │   └── WorkspaceUnavailableError  the index file fails (closed, locked, damaged)
    ├── DataError                  trainer.data.records: input `train data` cannot use
    │   ├── BadRecord                  trainer.data.chatml: one unusable ChatML line
    │   └── LeakageError               trainer.data.split: validation data in training data
    └── TrainError                 trainer.train.errors: `train run|export|eval` cannot go
                                   on; ``exit_code`` is the command's status

Errors from wrapped libraries (OSError, httpx, llama_cpp, gguf, json, yaml, tomllib) are mapped
onto this tree where they are raised (``raise … from exc``), so callers catch the root or one
of its branches, never a tuple of library exceptions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from fim.errors import BbjCoderError


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


class ModelExistsError(StoreError):
    pass


class BackendError(BbjCoderError):
    pass


class BackendUnavailableError(BackendError):
    pass


class GenerationError(BackendError):
    pass


class PromptTooLongError(BackendError):
    pass


@contextlib.contextmanager
def os_error_as(error: Callable[[str], BbjCoderError]) -> Iterator[None]:
    """Map an :class:`OSError` raised in the block onto the tree: ``error`` with the system's
    own sentence, raised from it. For the edges where files are read and written."""
    try:
        yield
    except OSError as exc:
        raise error(str(exc)) from exc


__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "BbjCoderError",
    "ConfigError",
    "GenerationError",
    "InstanceError",
    "ModelError",
    "ModelExistsError",
    "ModelLoadError",
    "ModelNotFoundError",
    "PromptTooLongError",
    "StoreError",
    "TokenError",
    "os_error_as",
]
