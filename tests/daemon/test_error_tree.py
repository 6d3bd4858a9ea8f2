"""One exception tree: every bbj-coder exception descends from one root, drawn in one place."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import daemon.errors
import fim
import fim.errors
from daemon.errors import BbjCoderError, StoreError, os_error_as

PACKAGES = ("fim", "daemon", "lsp", "tui", "trainer")


def exception_classes() -> list[type[BaseException]]:
    """Every exception class our packages define (modules whose optional extras are missing
    are passed over: their classes cannot be raised either)."""
    found: list[type[BaseException]] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]
        for name in names:
            if name.endswith("__main__"):
                continue
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            found += [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ]
    return found


CLASSES = exception_classes()


def test_the_root_lives_in_fim_and_is_re_exported_by_the_daemon() -> None:
    assert daemon.errors.BbjCoderError is fim.errors.BbjCoderError is fim.BbjCoderError
    assert len(CLASSES) > 30, "the scan found the classes"


@pytest.mark.parametrize("error", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_exception_descends_from_the_one_root(error: type[BaseException]) -> None:
    assert issubclass(error, BbjCoderError)


@pytest.mark.parametrize("error", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_the_tree_drawn_in_daemon_errors_names_every_class_with_its_module(
    error: type[BaseException],
) -> None:
    lines = (daemon.errors.__doc__ or "").splitlines()
    line = next((ln for ln in lines if f" {error.__name__} " in ln), None)
    assert line is not None, f"{error.__name__} is missing from the tree"
    if error is BbjCoderError:
        assert "fim.errors" in line
        return
    parent = error.__mro__[1]
    if error.__module__ != "daemon.errors" and error.__module__ != parent.__module__:
        defined_in = error.__module__.rsplit("._", 1)[0]  # daemon.check._types: daemon.check
        assert defined_in in line, f"{error.__name__}'s line does not name {defined_in}"
    if parent is not BbjCoderError:
        above = lines[: lines.index(line)]
        branch = next(ln for ln in reversed(above) if f" {parent.__name__} " in ln)
        assert branch.index(parent.__name__) < line.index(error.__name__), "drawn under its parent"


def test_an_os_error_at_an_edge_becomes_the_given_branch_with_the_same_sentence(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere" / "file"
    with pytest.raises(StoreError) as caught, os_error_as(StoreError):
        missing.read_text()
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert str(caught.value) == str(caught.value.__cause__)
