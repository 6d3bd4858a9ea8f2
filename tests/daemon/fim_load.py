"""A few FIM clients hammering a daemon in threads, recording every failed request."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from tests.conftest import RunningDaemon


@dataclass
class LoadResult:
    served: int = 0
    failures: list[str] = field(default_factory=list)


@contextmanager
def fim_load(running: RunningDaemon, clients: int = 3) -> Iterator[LoadResult]:
    """While the block runs, ``clients`` threads send FIM requests, each with a new prefix so
    the type-ahead cache cannot answer them; transport errors count as failures too."""
    result = LoadResult()
    stop = threading.Event()
    numbers = itertools.count()

    def client(index: int) -> None:
        with running.client() as http:
            while not stop.is_set():
                body = {
                    "prefix": f"x{next(numbers)} = ",
                    "suffix": "\n",
                    "max_tokens": 6,
                    "client": f"c{index}",
                }
                try:
                    response = http.post("/v1/bbj/fim", json=body)
                except httpx.HTTPError as exc:
                    result.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code == 200:
                    result.served += 1
                else:
                    result.failures.append(response.text)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield result
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
