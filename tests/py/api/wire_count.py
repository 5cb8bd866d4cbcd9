"""A loopback TCP proxy in front of PostgreSQL that counts, per request, what crosses the wire:
round trips (a client turn: the client sends after the server has answered, or first) and
statements (Execute and simple Query messages of the frontend protocol). Real traffic, no mocks:
the app under test connects to the proxy instead of the server."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg


@dataclass
class Counts:
    round_trips: int = 0
    statements: int = 0


class _Link:
    """One client connection: the frontend's message parser and whose turn it was last."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False  # past the StartupMessage (the only message without a type byte)
        self.server_spoke = True  # so the first client send is a turn

    def frontend_messages(self, data: bytes) -> list[bytes]:
        self.buffer += data
        types: list[bytes] = []
        while True:
            if not self.started:
                if len(self.buffer) < 4:
                    break
                (length,) = struct.unpack("!i", self.buffer[:4])
                if len(self.buffer) < length:
                    break
                self.buffer, self.started = self.buffer[length:], True
                continue
            if len(self.buffer) < 5:
                break
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                break
            types.append(self.buffer[:1])
            self.buffer = self.buffer[1 + length :]
        return types


class WireCounter:
    def __init__(self, url: str) -> None:
        info = psycopg.conninfo.conninfo_to_dict(url)
        host, port = str(info.get("host") or "/tmp"), int(info.get("port") or 5432)
        self._target: tuple[int, str | tuple[str, int]] = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}") if host.startswith("/") else (socket.AF_INET, (host, port))
        )
        self._listener = socket.create_server(("127.0.0.1", 0))
        listen_port = self._listener.getsockname()[1]
        self.url = psycopg.conninfo.make_conninfo(
            url, host="127.0.0.1", port=listen_port, sslmode="disable", gssencmode="disable"
        )
        self._lock = threading.Lock()
        self._counts = Counts()
        threading.Thread(target=self._accept, daemon=True).start()

    @contextmanager
    def counting(self) -> Iterator[Counts]:
        """What crossed the wire inside the block (the Counts are filled in when it ends)."""
        result = Counts()
        with self._lock:
            self._counts = Counts()
        yield result
        with self._lock:
            result.round_trips, result.statements = self._counts.round_trips, self._counts.statements

    def _accept(self) -> None:
        while True:
            client, _ = self._listener.accept()
            family, address = self._target
            server = socket.socket(family, socket.SOCK_STREAM)
            server.connect(address)
            link = _Link()
            threading.Thread(target=self._pump_client, args=(client, server, link), daemon=True).start()
            threading.Thread(target=self._pump_server, args=(server, client, link), daemon=True).start()

    def _pump_client(self, source: socket.socket, sink: socket.socket, link: _Link) -> None:
        while data := _recv(source):
            with self._lock:
                if link.server_spoke:
                    self._counts.round_trips += 1
                    link.server_spoke = False
                self._counts.statements += sum(t in (b"E", b"Q") for t in link.frontend_messages(data))
            sink.sendall(data)
        _close(sink)

    def _pump_server(self, source: socket.socket, sink: socket.socket, link: _Link) -> None:
        while data := _recv(source):
            with self._lock:
                link.server_spoke = True
            sink.sendall(data)
        _close(sink)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
