"""The model catalogue: a registry manifest listing the models a user may download.

A catalogue is one JSON document, fetched from a URL (``https://…/catalogue.json``) or read
from a local directory (an offline bundle or USB stick holding ``DIR/catalogue.json`` next to
the model files)::

    {
      "models": [
        {
          "name": "bbj-coder-7b",                 # store name (letters, digits, . _ -)
          "description": "Qwen2.5-Coder 7B tuned for BBj",
          "size": 4683073536,                     # bytes of the .gguf file
          "quant": "Q4_K_M",
          "sha256": "…64 hex digits…",
          "url": "bbj-coder-7b.Q4_K_M.gguf",      # absolute URL, file:// URL or relative
          "roles": ["chat", "autocomplete"],
          "min_ram_gb": 8,
          "context_length": 32768,                # optional
          "fim_format": "qwen2.5-coder"           # optional
        }
      ]
    }

A relative ``url`` is resolved against the catalogue's own location: the directory for a local
bundle, the catalogue URL for a remote one. A remote catalogue may only point at ``http(s)``
URLs: a ``file://`` URL or a local path in it would copy local files into the store (and tell
the catalogue's author whether a file exists). Unknown keys are ignored so newer catalogues stay
readable. Every problem raises :class:`CatalogueError` naming the entry and the field; with
``lenient=True`` a bad entry is skipped instead and its error kept in ``Catalogue.problems``,
so one broken entry does not hide the good ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from daemon.errors import BbjCoderError

CATALOGUE_FILE = "catalogue.json"
CATALOGUE_ENV = "BBJ_CODER_CATALOGUE"
KNOWN_ROLES = ("chat", "autocomplete")
FIX_ENTRY = "fix that entry in the catalogue (or ask its maintainer)"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}\Z")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class CatalogueError(BbjCoderError):
    """The catalogue cannot be read or does not follow the schema."""


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    description: str
    size: int
    quant: str
    sha256: str
    url: str
    """Absolute: an ``http(s)://`` URL, or a local file path for offline bundles."""
    roles: tuple[str, ...]
    min_ram_gb: float
    context_length: int | None = None
    fim_format: str | None = None

    @property
    def is_local(self) -> bool:
        return not self.url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Catalogue:
    source: str
    entries: tuple[CatalogueEntry, ...]
    problems: tuple[str, ...] = ()
    """Why entries were skipped (``lenient`` parsing only)."""

    def find(self, name: str) -> CatalogueEntry | None:
        return next((e for e in self.entries if e.name == name), None)


def is_remote(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def local_path(location: str) -> Path:
    """The filesystem path of a ``file://`` URL or a plain path."""
    if location.startswith("file://"):
        return Path(unquote(urlparse(location).path))
    return Path(location).expanduser()


def resolve_url(url: str, base: str) -> str:
    """``url`` made absolute against ``base`` (a catalogue URL or a local directory)."""
    if is_remote(url):
        return url
    if is_remote(base):
        return urljoin(base, url)
    path = local_path(url)
    return str(path if path.is_absolute() else Path(base) / path)


async def load_catalogue(
    location: str, *, timeout_s: float = 15.0, lenient: bool = False
) -> Catalogue:
    """Read the catalogue at ``location``: an http(s) URL, a directory or a JSON file."""
    if is_remote(location):
        text = await _fetch(location, timeout_s)
        return parse_catalogue(text, base=location, source=location, lenient=lenient)
    path = local_path(location)
    file = path / CATALOGUE_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogueError(
            f"No catalogue at {file}; point --catalogue at a bundle folder that holds "
            f"{CATALOGUE_FILE}, or at the catalogue's URL."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"Cannot read the catalogue {file}: {exc}.") from exc
    return parse_catalogue(text, base=str(file.parent), source=str(file), lenient=lenient)


async def _fetch(url: str, timeout_s: float) -> str:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise CatalogueError(
            f"Cannot fetch the catalogue from {url} ({type(exc).__name__}); check the URL and "
            "the network, or use an offline bundle folder instead."
        ) from exc
    if response.status_code != 200:
        raise CatalogueError(
            f"The catalogue server at {url} answered {response.status_code}; check the URL."
        )
    return response.text


def parse_catalogue(text: str, *, base: str, source: str = "", lenient: bool = False) -> Catalogue:
    """Validate a catalogue document; relative model URLs are resolved against ``base``.

    ``lenient`` skips bad entries (their errors go to ``problems``) instead of raising; a
    document that is not a catalogue at all raises either way.
    """
    where = source or base
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CatalogueError(
            f"The catalogue {where} is not valid JSON ({exc}); fix the file or ask its maintainer."
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogueError(
            f'The catalogue {where} must be an object with a "models" list; fix the file or ask '
            "its maintainer."
        )
    entries: list[CatalogueEntry] = []
    problems: list[str] = []
    for index, raw in enumerate(data["models"]):
        try:
            entry = _entry(raw, index, base, where)
            if any(e.name == entry.name for e in entries):
                raise CatalogueError(
                    f"The catalogue {where} lists the model {entry.name!r} twice; {FIX_ENTRY}."
                )
        except CatalogueError as exc:
            if not lenient:
                raise
            problems.append(str(exc))
            continue
        entries.append(entry)
    return Catalogue(source=where, entries=tuple(entries), problems=tuple(problems))


class _Fields:
    """Typed access to one entry's fields, with errors naming the entry and the field."""

    def __init__(self, raw: dict[str, Any], label: str) -> None:
        self.raw = raw
        self.label = label

    def fail(self, key: str, problem: str) -> CatalogueError:
        return CatalogueError(f'{self.label}: field "{key}" {problem}; {FIX_ENTRY}.')

    def required(self, key: str) -> Any:
        if key not in self.raw or self.raw[key] is None:
            raise self.fail(key, "is missing")
        return self.raw[key]

    def text(self, key: str, *, optional: bool = False) -> str | None:
        if optional and self.raw.get(key) is None:
            return None
        value = self.required(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def number(self, key: str, kind: type, *, optional: bool = False) -> Any:
        if optional and self.raw.get(key) is None:
            return None
        value = self.required(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, "must be a number of at least 0")
        if kind is int and value != int(value):
            raise self.fail(key, "must be a whole number")
        return kind(value)


def _entry(raw: Any, index: int, base: str, where: str) -> CatalogueEntry:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: models[{index}] must be an object; {FIX_ENTRY}.")
    name = raw.get("name")
    label = f"{where}: models[{index}]" + (f" ({name!r})" if isinstance(name, str) else "")
    fields = _Fields(raw, label)
    name = fields.text("name")
    if not _NAME.match(name or ""):
        raise fields.fail("name", "may hold only letters, digits, '.', '_' and '-'")
    sha256 = fields.text("sha256") or ""
    if not _SHA256.match(sha256):
        raise fields.fail("sha256", "must be 64 hexadecimal digits")
    size = fields.number("size", int)
    if size == 0:
        raise fields.fail("size", "must be more than 0 bytes")
    url = resolve_url(fields.text("url") or "", base)
    if is_remote(base) and not is_remote(url):
        raise fields.fail("url", "must be an http:// or https:// URL in a remote catalogue")
    return CatalogueEntry(
        name=name or "",
        description=fields.text("description") or "",
        size=size,
        quant=fields.text("quant") or "",
        sha256=sha256.lower(),
        url=url,
        roles=_roles(fields),
        min_ram_gb=fields.number("min_ram_gb", float),
        context_length=fields.number("context_length", int, optional=True),
        fim_format=fields.text("fim_format", optional=True),
    )


def _roles(fields: _Fields) -> tuple[str, ...]:
    roles = fields.required("roles")
    if not isinstance(roles, list) or not roles or not all(r in KNOWN_ROLES for r in roles):
        raise fields.fail("roles", f"must be a non-empty list drawn from {', '.join(KNOWN_ROLES)}")
    return tuple(roles)
