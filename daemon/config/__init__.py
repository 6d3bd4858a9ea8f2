"""Settings: defaults, then ``config.toml``, then ``BBJ_CODER_<SECTION>_<KEY>``, then CLI flags.

One mechanism for every configuration of the project: frozen dataclasses whose fields carry
their help text (:mod:`~daemon.config.schema`), layers read from a TOML file, the environment
or flags that convert each value and record where it came from (:mod:`~daemon.config.layers`),
and a TOML reader/writer (:mod:`~daemon.config.tomlfile`). The daemon's own settings are
:class:`Config`; :func:`load_config` returns them with the origin of every value, which is
what ``bbj-coder config show`` prints. The trainer's data and run configs use the same parts.
"""

from daemon.config.coerce import Wording
from daemon.config.layers import Layer, Resolved, env_layer, file_layer, flag_layer, resolve
from daemon.config.loader import (
    BACKEND_KINDS,
    CHAT_CHECKS,
    ENV_PREFIX,
    FIM_FORMAT_NAMES,
    LOG_LEVELS,
    LoadedConfig,
    describe,
    load_config,
    validate,
)
from daemon.config.origin import DEFAULT, Origin
from daemon.config.schema import field_help, help_rows, setting
from daemon.config.sections import (
    SECTIONS,
    BackendSettings,
    ChatSettings,
    CheckSettings,
    Config,
    FimSettings,
    ModelSettings,
    NextEditSettings,
    ServerSettings,
    WorkspaceSettings,
)
from daemon.config.tomlfile import TomlFile, dumps, read_toml

__all__ = [
    "BACKEND_KINDS",
    "CHAT_CHECKS",
    "DEFAULT",
    "ENV_PREFIX",
    "FIM_FORMAT_NAMES",
    "LOG_LEVELS",
    "SECTIONS",
    "BackendSettings",
    "ChatSettings",
    "CheckSettings",
    "Config",
    "FimSettings",
    "Layer",
    "LoadedConfig",
    "ModelSettings",
    "NextEditSettings",
    "Origin",
    "Resolved",
    "ServerSettings",
    "TomlFile",
    "Wording",
    "WorkspaceSettings",
    "describe",
    "dumps",
    "env_layer",
    "field_help",
    "file_layer",
    "flag_layer",
    "help_rows",
    "load_config",
    "read_toml",
    "resolve",
    "setting",
    "validate",
]
