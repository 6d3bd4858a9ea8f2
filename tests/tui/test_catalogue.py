"""The catalogue: schema validation with errors naming the entry and field, URL resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.models.catalogue import CatalogueError, load_catalogue, parse_catalogue
from tests.tui.conftest import catalogue_model, write_catalogue
from tests.tui.http_fixtures import Behaviour, FileServer

pytestmark = pytest.mark.asyncio


def _document(*models: dict) -> str:
    return json.dumps({"models": list(models)})


async def test_local_bundle_resolves_relative_urls_against_its_folder(tmp_path: Path) -> None:
    bundle = write_catalogue(
        tmp_path / "usb",
        [
            catalogue_model("small", b"abc", "models/small.gguf", context_length=4096),
            catalogue_model("big", b"abcdef", "https://example.invalid/big.gguf"),
        ],
    )
    catalogue = await load_catalogue(str(bundle))
    small, big = catalogue.entries
    assert small.url == str(bundle / "models" / "small.gguf") and small.is_local
    assert small.context_length == 4096 and small.fim_format is None
    assert big.url == "https://example.invalid/big.gguf" and not big.is_local
    assert catalogue.find("big") is big and catalogue.find("nope") is None


async def test_catalogue_file_and_file_url_are_accepted(tmp_path: Path) -> None:
    bundle = write_catalogue(tmp_path / "b", [catalogue_model("m", b"x", "m.gguf")])
    by_file = await load_catalogue(str(bundle / "catalogue.json"))
    by_url = await load_catalogue((bundle / "catalogue.json").as_uri())
    assert by_file.entries == by_url.entries
    assert by_file.entries[0].url == str(bundle / "m.gguf")


async def test_remote_catalogue_resolves_relative_urls_against_its_url(
    file_server: FileServer,
) -> None:
    file_server.json_routes["/registry/catalogue.json"] = {
        "models": [catalogue_model("m", b"x", "files/m.gguf")]
    }
    catalogue = await load_catalogue(file_server.url("/registry/catalogue.json"))
    assert catalogue.entries[0].url == file_server.url("/registry/files/m.gguf")


async def test_remote_errors_say_what_to_check(file_server: FileServer) -> None:
    file_server.behaviour["/gone.json"] = Behaviour(status=500)
    with pytest.raises(CatalogueError, match="answered 500; check the URL"):
        await load_catalogue(file_server.url("/gone.json"))
    file_server.stop()
    with pytest.raises(CatalogueError, match=r"Cannot fetch the catalogue .* offline bundle"):
        await load_catalogue(file_server.url("/x.json"))


async def test_missing_bundle_says_what_to_point_at(tmp_path: Path) -> None:
    with pytest.raises(
        CatalogueError, match=r"No catalogue at .*catalogue.json; point --catalogue"
    ):
        await load_catalogue(str(tmp_path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": None}, r'models\[0\] \(\'m\'\): field "sha256" is missing'),
        ({"sha256": "abc"}, r'field "sha256" must be 64 hexadecimal digits'),
        ({"size": "big"}, r'field "size" must be a number'),
        ({"size": 1.5}, r'field "size" must be a whole number'),
        ({"size": 0}, r'field "size" must be more than 0 bytes'),
        ({"roles": ["chat", "poetry"]}, r'field "roles" must be a non-empty list'),
        ({"url": ""}, r'field "url" must be a non-empty string'),
        ({"name": "bad name!"}, r'field "name" may hold only letters'),
        ({"min_ram_gb": -1}, r'field "min_ram_gb" must be a number of at least 0'),
        ({"context_length": "long"}, r'field "context_length" must be a number'),
    ],
)
async def test_schema_errors_name_the_entry_and_field(change: dict, message: str) -> None:
    model = {**catalogue_model("m", b"x", "m.gguf"), **change}
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(_document(model), base="/bundle", source="catalogue.json")


async def test_document_level_errors() -> None:
    with pytest.raises(CatalogueError, match="is not valid JSON"):
        parse_catalogue("{", base="/b")
    with pytest.raises(CatalogueError, match='must be an object with a "models" list'):
        parse_catalogue("[]", base="/b")
    with pytest.raises(CatalogueError, match=r"models\[0\] must be an object"):
        parse_catalogue('{"models": [3]}', base="/b")
    twice = catalogue_model("m", b"x", "m.gguf")
    with pytest.raises(CatalogueError, match="lists the model 'm' twice"):
        parse_catalogue(_document(twice, twice), base="/b")


async def test_unknown_keys_are_ignored() -> None:
    model = {**catalogue_model("m", b"x", "m.gguf"), "licence": "proprietary"}
    assert parse_catalogue(_document(model), base="/b").entries[0].name == "m"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///etc/passwd", "ftp://x/y.gguf"])
async def test_a_remote_catalogue_may_point_only_at_http_urls(url: str) -> None:
    remote = "https://models.example/catalogue.json"
    model = catalogue_model("m", b"x", url)
    with pytest.raises(CatalogueError, match=r'field "url" must be an http:// or https:// URL'):
        parse_catalogue(_document(model), base=remote)
    absolute = parse_catalogue(_document(catalogue_model("m", b"x", "/etc/passwd")), base=remote)
    assert absolute.entries[0].url == "https://models.example/etc/passwd"
    local = parse_catalogue(_document(catalogue_model("m", b"x", "file:///m.gguf")), base="/b")
    assert local.entries[0].is_local, "a local bundle may still name local files"


async def test_lenient_parsing_keeps_the_good_entries_and_says_why_one_was_skipped() -> None:
    good = catalogue_model("good", b"x", "g.gguf")
    bad = {**catalogue_model("bad", b"x", "b.gguf"), "sha256": "abc"}
    with pytest.raises(CatalogueError):
        parse_catalogue(_document(good, bad), base="/b")
    catalogue = parse_catalogue(_document(good, bad, good), base="/b", lenient=True)
    assert [e.name for e in catalogue.entries] == ["good"]
    assert len(catalogue.problems) == 2
    assert 'field "sha256" must be 64 hexadecimal digits' in catalogue.problems[0]
    assert "lists the model 'good' twice" in catalogue.problems[1]
