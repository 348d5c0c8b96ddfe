"""A real redis-server (Debian's package) on a free loopback port, for the checkpoint and Ray tests.

Missing redis-server (or the redis client) fails the tests under CI (`CI` set) and skips them elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Optional, Sequence

import pytest


def require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """`redis-server` without persistence; stop() and start() again on the same port model an outage."""

    def __init__(self, args: Sequence[str] = (), tls: Optional[Sequence[str]] = None) -> None:
        """`args`: more redis-server directives (e.g. an ACL user); `tls`: the TLS directives, which move the
        server to a TLS-only port."""
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server not found (apt-get install redis-server)")
        try:
            import redis  # noqa: F401
        except ImportError:
            require(False, "the redis client is not installed (pip install 'kvs-parser-py[ray]')")
        self.binary = str(binary)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="kvs-redis-")
        self.args, self.tls = list(args), tls
        self._process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        ports = ["--port", str(self.port)] if self.tls is None else ["--port", "0", "--tls-port", str(self.port),
                                                                     *self.tls]
        self._process = subprocess.Popen(
            [self.binary, *ports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir,
             *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not listen on port {self.port} within 10 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
