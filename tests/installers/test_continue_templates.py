"""The shipped Continue templates: what `continue install` writes, and valid for Continue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from daemon.setup.continuedev.entries import (
    PLACEHOLDER_TOKEN,
    PROVIDERS,
    Endpoint,
    render_legacy_template,
    render_new_config,
)
from tests.installers.continue_rules import continue_problems

TEMPLATES = Path(__file__).resolve().parents[2] / "continue-config"


def placeholder(provider: str) -> Endpoint:
    return Endpoint(provider, "127.0.0.1", 11435, PLACEHOLDER_TOKEN)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_yaml_template_is_what_install_writes_and_valid(provider: str) -> None:
    text = (TEMPLATES / f"config.{provider}.yaml").read_text()

    assert text == render_new_config(placeholder(provider))
    assert continue_problems(text, ours_only=True) == []
    models = yaml.safe_load(text)["models"]
    assert [m["provider"] for m in models] == [provider, provider]
    assert sorted(role for m in models for role in m["roles"]) == sorted(
        ["chat", "edit", "apply", "autocomplete"]
    )


def test_the_templates_explain_the_choices_that_are_easy_to_get_wrong() -> None:
    ollama = (TEMPLATES / "config.ollama.yaml").read_text()
    openai = (TEMPLATES / "config.openai.yaml").read_text()

    assert "{{ .Suffix }}" in ollama and "requestOptions.headers" in ollama
    assert '"gpt" or "o"' in openai and "/v1/completions" in openai
    assert "apiBase: http://127.0.0.1:11435/v1" in openai
    assert "apiBase: http://127.0.0.1:11435\n" in ollama


def test_autocomplete_options_are_tuned_for_a_local_model() -> None:
    models = yaml.safe_load((TEMPLATES / "config.ollama.yaml").read_text())["models"]
    options = next(m for m in models if m["roles"] == ["autocomplete"])["autocompleteOptions"]

    assert options["debounceDelay"] < 350  # Continue's default
    assert options["modelTimeout"] > 1500  # the daemon's fim.time_budget_ms
    assert options["maxPromptTokens"] > 1024  # Continue's default


def test_the_legacy_json_template_matches_and_is_documented() -> None:
    text = (TEMPLATES / "config.json").read_text()

    assert text == render_legacy_template(placeholder("ollama"))
    data = json.loads(text)
    assert data["models"][0]["title"] == "bbj-coder chat"
    assert data["tabAutocompleteModel"]["title"] == "bbj-coder autocomplete"
    readme = (TEMPLATES / "README.md").read_text()
    assert "tabAutocompleteModel" in readme and "{{ .Suffix }}" in readme
