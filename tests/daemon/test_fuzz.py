"""A short seeded run of the fuzzer in tests/bench/fuzz.py: malformed requests over every route
get no 5xx, leave no traceback in the log and leave the daemon healthy."""

from __future__ import annotations

from tests.bench.fuzz import app_routes, healthy, logged_tracebacks, malformed_requests, send_all


def test_malformed_requests_over_every_route_get_no_5xx(daemon) -> None:
    routes = app_routes()
    assert {"/v1/chat/completions", "/api/generate", "/v1/bbj/fim"} <= {p for p, _ in routes}
    log_before = len(daemon.log())
    report = send_all(daemon.url, daemon.token, malformed_requests(7, 4 * len(routes), routes))
    assert report.failures == [] and report.transport_errors == []
    assert set(report.by_route) == {path for path, _ in routes}
    assert logged_tracebacks(daemon.log()[log_before:]) == []
    assert healthy(daemon.url, daemon.token) is None
