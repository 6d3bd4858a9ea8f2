"""Real loopback HTTP servers for the download, catalogue and Ollama tests.

:class:`FileServer` serves byte strings with HTTP Range support and can misbehave on purpose:
answer an error status, drop the connection part-way through a body, ignore ``Range``, or send
slowly. Every request is recorded so tests can assert what the client asked for.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PIECE = 64 * 1024
_RANGE = re.compile(r"bytes=(\d+)-(\d*)\Z")


@dataclass
class Behaviour:
    status: int | None = None
    """Answer this status (no file) instead of serving the file."""
    drop_after: int | None = None
    """Close the connection after this many bytes of the body, once."""
    ignore_range: bool = False
    piece_delay_s: float = 0.0


@dataclass(frozen=True)
class Request:
    path: str
    range: str | None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-body (cancel, refusal) are part of the tests


@dataclass
class FileServer:
    files: dict[str, bytes] = field(default_factory=dict)
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    json_routes: dict[str, Any] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FileServer:
        server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server, self.port = server, server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler_for(owner: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            owner.requests.append(Request(self.path, self.headers.get("Range")))
            if self.path in owner.json_routes:
                self._send_json(owner.json_routes[self.path])
                return
            behaviour = owner.behaviour.get(self.path, Behaviour())
            data = owner.files.get(self.path)
            if behaviour.status is not None or data is None:
                self._send_status(behaviour.status or 404)
                return
            self._send_file(data, behaviour)

        def _send_json(self, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_status(self, status: int) -> None:
            body = b"no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_file(self, data: bytes, behaviour: Behaviour) -> None:
            start = self._range_start(len(data), behaviour)
            if start is None:
                return
            body = data[start:]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self._write_body(body, behaviour)

        def _range_start(self, size: int, behaviour: Behaviour) -> int | None:
            match = _RANGE.match(self.headers.get("Range", ""))
            if match is None or behaviour.ignore_range:
                return 0
            start = int(match.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return start

        def _write_body(self, body: bytes, behaviour: Behaviour) -> None:
            limit = behaviour.drop_after
            for offset in range(0, len(body), PIECE):
                piece = body[offset : offset + PIECE]
                if limit is not None and offset + len(piece) > limit:
                    self.wfile.write(piece[: max(limit - offset, 0)])
                    self.wfile.flush()
                    behaviour.drop_after = None
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(piece)
                if behaviour.piece_delay_s:
                    self.wfile.flush()
                    time.sleep(behaviour.piece_delay_s)

    return Handler
