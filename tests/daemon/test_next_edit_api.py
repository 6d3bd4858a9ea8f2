"""``POST /v1/bbj/next-edit`` on a real daemon serving the tiny model."""

from __future__ import annotations

import pytest

ROUTE = "/v1/bbj/next-edit"
PROGRAM = 'count = 1\nprint x\nprint "done"\n'


def body(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "path": "p.bbj",
        "text": PROGRAM,
        "cursor": {"line": 1, "character": 0},
        "edits": [
            {"path": "p.bbj", "start_line": 0, "original": "x = 1\n", "updated": "count = 1\n"}
        ],
        "max_tokens": 24,
    }
    payload.update(overrides)
    return payload


def _error(response) -> str:
    assert 400 <= response.status_code < 500, response.text
    return response.json()["error"]["message"]


def test_a_request_gets_edits_or_a_reason_for_none(daemon) -> None:
    with daemon.client() as http:
        response = http.post(ROUTE, json=body())
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["window"] == {"start_line": 0, "end_line": 4}
    # The tiny model writes random tokens: either a checked edit or a reason for nothing.
    assert data["edits"] == [] or all({"range", "new_text"} <= set(e) for e in data["edits"])
    assert (data["reason"] is None) == bool(data["edits"])
    assert data["timings"]["prompt_tokens"] > 0


@pytest.mark.parametrize(
    ("cursor", "words"),
    [
        ({"line": 40, "character": 0}, "document has 4 lines"),
        ({"line": 1, "character": 80}, "has 7 characters"),
    ],
)
def test_a_cursor_off_the_document_is_a_400_sentence(daemon, cursor, words) -> None:
    with daemon.client() as http:
        response = http.post(ROUTE, json=body(cursor=cursor))
    assert response.status_code == 400 and words in _error(response)


def test_a_negative_cursor_is_refused(daemon) -> None:
    with daemon.client() as http:
        response = http.post(ROUTE, json=body(cursor={"line": -1, "character": 0}))
    assert "cursor" in _error(response)


def test_a_huge_history_is_refused_with_what_to_do(daemon) -> None:
    hunk = {"path": "p.bbj", "original": "a\n", "updated": "b" * 20000 + "\n"}
    with daemon.client() as http:
        too_big = http.post(ROUTE, json=body(edits=[hunk]))
        too_many = http.post(ROUTE, json=body(edits=[body()["edits"][0]] * 50))
    assert too_big.status_code == 400 and "Send only the most recent" in _error(too_big)
    assert too_many.status_code == 400 and "50 hunks" in _error(too_many)


def test_the_route_needs_the_token(daemon) -> None:
    import httpx

    response = httpx.post(daemon.url + ROUTE, json=body())
    assert response.status_code == 401


def test_the_routes_format_list_names_fim_formats_not_next_edit_formats() -> None:
    from daemon.config import FIM_FORMAT_NAMES
    from daemon.server.api import next_edit_route

    assert not hasattr(next_edit_route, "NEXT_EDIT_FORMATS")  # that name is fim.next_edit's
    assert set(next_edit_route.FILE_SEP_FIM_FORMATS) <= set(FIM_FORMAT_NAMES)
