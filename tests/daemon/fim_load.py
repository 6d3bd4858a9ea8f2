"""A few FIM clients hammering a daemon in threads, recording every failed request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import RunningDaemon


@contextmanager
def fim_load(running: RunningDaemon, clients: int = 3) -> Iterator[list[str]]:
    """While the block runs, ``clients`` threads send FIM requests; yields the failures list."""
    failures: list[str] = []
    stop = threading.Event()

    def client(index: int) -> None:
        with running.client() as http:
            while not stop.is_set():
                body = {
                    "prefix": f"x{index} = ",
                    "suffix": "\n",
                    "max_tokens": 6,
                    "client": f"c{index}",
                }
                response = http.post("/v1/bbj/fim", json=body)
                if response.status_code != 200:
                    failures.append(response.text)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield failures
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
