"""Config layering (defaults, file, env, flags), sources, and errors naming file, line, key."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import describe, load_config
from daemon.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "missing.toml", environ={})
    assert loaded.config.server.host == "127.0.0.1"
    assert loaded.config.server.port == 11435
    assert loaded.sources["server.port"] == "default"


def test_layers_and_sources(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 12000\n\n[fim]\nmax_tokens = 64\n")
    loaded = load_config(
        path,
        environ={
            "BBJ_CODER_FIM_MAX_TOKENS": "32",
            "BBJ_CODER_SERVER_ALLOWED_HOSTS": "a.local, b.local",
        },
        flags={"server.port": 13000, "model.path": None},
    )
    config = loaded.config
    assert config.server.port == 13000
    assert loaded.sources["server.port"] == "flag --port"
    assert config.fim.max_tokens == 32
    assert loaded.sources["fim.max_tokens"] == "env BBJ_CODER_FIM_MAX_TOKENS"
    assert config.server.allowed_hosts == ("a.local", "b.local")
    assert loaded.sources["model.path"] == "default"


def test_file_source_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "# comment\n[fim]\n\nmax_tokens = 64\n")
    assert load_config(path, environ={}).sources["fim.max_tokens"] == f"{path}, line 4"


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nhost = "127.0.0.1"\nprot = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "line 3" in message and "server.prot" in message and "port" in message


def test_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[servers\]"):
        load_config(write(tmp_path, "[servers]\nport = 1\n"), environ={})


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'server.port' must be an integer"):
        load_config(write(tmp_path, '[server]\nport = "high"\n'), environ={})
    with pytest.raises(ConfigError, match=r"env BBJ_CODER_FIM_TEMPERATURE: 'fim.temperature'"):
        load_config(None, environ={"BBJ_CODER_FIM_TEMPERATURE": "warm"})


def test_values_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.port must be between"):
        load_config(write(tmp_path, "[server]\nport = 70000\n"), environ={})
    with pytest.raises(ConfigError, match=r"check\.chat"):
        load_config(None, environ={"BBJ_CODER_CHECK_CHAT": "maybe"})


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("next_edit", "max_history_hunks", "0"),
        ("next_edit", "max_history_chars", "0"),
        ("next_edit", "time_budget_ms", "0"),
        ("next_edit", "max_prompt_tokens", "-1"),
        ("backend", "upstream_read_timeout_s", "0"),
        ("check", "bbjcpl_retry_s", "-0.5"),
    ],
)
def test_limits_and_timeouts_out_of_range(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=rf"{section}\.{key} must"):
        load_config(write(tmp_path, f"[{section}]\n{key} = {value}\n"), environ={})


def test_describe_round_trips_as_toml(tmp_path: Path) -> None:
    import tomllib

    loaded = load_config(
        write(tmp_path, '[server]\nallowed_origins = ["vscode-webview://x"]\n'), environ={}
    )
    rendered = describe(loaded)
    parsed = tomllib.loads(rendered)
    assert parsed["server"]["allowed_origins"] == ["vscode-webview://x"]
    assert "# default" in rendered


def test_describe_writes_toml_that_reads_back_whatever_the_strings_hold(tmp_path: Path) -> None:
    import tomllib

    folder = tmp_path / "odd\nname # [x]"  # a source path lands in a comment
    folder.mkdir()
    path = write(folder, "[server]\nport = 12000\n")
    awkward = 'C:\\models\\a "b"\nsecond line\ttab \x01 ]  # not a comment'
    loaded = load_config(path, environ={"BBJ_CODER_MODEL_PATH": awkward})
    parsed = tomllib.loads(describe(loaded))
    assert parsed["model"]["path"] == awkward
    assert parsed["server"]["port"] == 12000
    assert parsed["server"]["allowed_hosts"] == []


def test_a_value_out_of_range_names_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nhost = "127.0.0.1"\nport = 99999\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"BBJ_CODER_CHECK_CHAT": "maybe"})
    message = str(info.value)
    assert f"{path}: server.port must be between 1 and 65535, got 99999 (line 3)" in message
    assert "env BBJ_CODER_CHECK_CHAT: check.chat must be" in message
    with pytest.raises(ConfigError, match=r"flag --port: server\.port must be between"):
        load_config(None, environ={}, flags={"server.port": 0})


def test_choices_come_from_the_checker_and_the_fim_formats() -> None:
    from daemon.check import CHECKER_MODES
    from fim import FORMATS

    for mode in CHECKER_MODES:
        assert load_config(None, environ={"BBJ_CODER_CHECK_CHECKER": mode}).config.check.checker
    for fmt in FORMATS:
        loaded = load_config(None, environ={"BBJ_CODER_MODEL_FIM_FORMAT": fmt.name})
        assert loaded.config.model.fim_format == fmt.name
    with pytest.raises(ConfigError) as info:
        load_config(None, environ={"BBJ_CODER_MODEL_FIM_FORMAT": "gpt"})
    assert all(fmt.name in str(info.value) for fmt in FORMATS)


def test_other_prefixed_variables_are_not_settings(tmp_path: Path) -> None:
    loaded = load_config(None, environ={"BBJ_CODER_HOME": str(tmp_path), "BBJ_CODER_X": "1"})
    assert set(loaded.sources.values()) == {"default"}
