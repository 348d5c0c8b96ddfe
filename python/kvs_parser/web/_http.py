"""A small HTTP/1.1 server that idle, trickling or slow-reading clients cannot hold.

One selector thread accepts connections and reads request heads without blocking; only a complete head is
handed to a bounded pool of worker threads, which make the response and send what the socket takes at
once; whatever a slow reader leaves is written by the selector thread as the client takes it, and the
connection is closed (``Connection: close``). So a connection that sends nothing, a byte a minute, or
reads nothing costs a socket and a buffer, never a worker: scrapes are answered while hundreds of such
connections sit open. A head must arrive within ``header_timeout`` of connecting, a response be taken
within ``write_timeout``; past ``max_connections`` the oldest waiting connection is dropped for the new
one, past ``max_pending_bytes`` of unsent responses the oldest slow reader. stop() closes every socket,
so it returns within a few seconds whatever the clients do; the threads are daemons, so a handler stuck
in a slow call never holds up the process's exit.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("kvs_parser.web")


@dataclass(frozen=True)
class Request:
    method: str  # GET or HEAD
    path: str  # still percent-encoded
    query: Dict[str, str]
    headers: Dict[str, str]  # names in lower case


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: Tuple[Tuple[str, str], ...] = ()


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class ServerLimits:
    workers: int = 8  # requests answered at once
    max_connections: int = 512  # open connections waiting for their request head
    header_timeout: float = 10.0  # seconds from connecting to a complete request head
    write_timeout: float = 10.0  # seconds for a client to take a whole response
    max_header_bytes: int = 16 * 1024
    max_pending_bytes: int = 64 * 1024 * 1024  # responses not yet taken by slow readers, all together
    backlog: int = 128


@dataclass
class _Waiting:
    sock: socket.socket
    deadline: float
    head: bytearray = field(default_factory=bytearray)
    closing: bool = False  # answered with an error: the rest of its input is read and dropped until it closes


@dataclass
class _Writing:
    sock: socket.socket
    data: memoryview  # what the client has not taken yet
    deadline: float


class HardenedHTTPServer:
    """Serves ``handler`` on ``bind:port`` (port 0: a free one) from background threads until stop()."""

    def __init__(self, handler: Handler, bind: str = "127.0.0.1", port: int = 0,
                 limits: Optional[ServerLimits] = None, name: str = "kvs-web") -> None:
        self.handler, self.bind, self.limits, self.name = handler, bind, limits or ServerLimits(), name
        self._requested_port = port
        self._listener: Optional[socket.socket] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._jobs: queue.Queue[Optional[Tuple[socket.socket, Request]]] = queue.Queue(self.limits.workers * 4)
        self._handoff: queue.SimpleQueue[Tuple[socket.socket, memoryview]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._threads: List[threading.Thread] = []
        self._port = 0

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("server is not running")
        return self._port

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        if self._listener is not None:
            return
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        listener = socket.create_server((self.bind, self._requested_port), family=family,
                                        backlog=self.limits.backlog)
        listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._listener, self._port = listener, listener.getsockname()[1]
        self._stopping.clear()
        # A fresh queue per start: a worker of an earlier run still busy in a slow handler keeps its own.
        self._jobs = queue.Queue(self.limits.workers * 4)
        self._handoff = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"{self.name}-accept", daemon=True)]
        self._threads += [threading.Thread(target=self._work, args=(self._jobs,), name=f"{self.name}-worker",
                                           daemon=True)
                          for _ in range(self.limits.workers)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Closes the port and every connection; returns within about `timeout` seconds."""
        if self._listener is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake()
        loop, workers = self._threads[0], self._threads[1:]
        current = threading.current_thread()  # stop() from a handler: never wait for itself
        if loop is not current:
            loop.join(max(0.0, deadline - time.monotonic()))
        while True:  # requests accepted but not started: closed unanswered
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                _close(job[0])
        for _ in workers:
            try:
                self._jobs.put_nowait(None)
            except queue.Full:
                break
        for thread in workers:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        while not self._handoff.empty():  # responses a worker handed over as the loop ended
            _close(self._handoff.get_nowait()[0])
        for wake in (self._wake_r, self._wake_w):
            if wake is not None:
                _close(wake)
        self._listener = self._wake_r = self._wake_w = None
        self._threads = []

    def _wake(self) -> None:
        try:
            if self._wake_w is not None:
                self._wake_w.send(b"x")
        except OSError:
            pass  # its buffer is full: the loop wakes anyway

    # -- the selector thread --
    def _loop(self) -> None:
        listener, wake = self._listener, self._wake_r
        assert listener is not None and wake is not None
        waiting: Dict[socket.socket, _Waiting] = {}
        writing: Dict[socket.socket, _Writing] = {}
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ, "accept")
            selector.register(wake, selectors.EVENT_READ, "wake")
            try:
                while not self._stopping.is_set():
                    now = time.monotonic()
                    deadlines = [w.deadline for w in waiting.values()] + [w.deadline for w in writing.values()]
                    soonest = min(deadlines, default=now + 1.0)
                    for key, _ in selector.select(min(1.0, max(0.0, soonest - now))):
                        if key.data == "accept":
                            self._accept(listener, selector, waiting)
                        elif key.data == "wake":
                            _drain(wake)
                        elif key.data == "write":
                            self._write_some(key.fileobj, selector, writing)  # type: ignore[arg-type]
                        else:
                            self._read_head(key.fileobj, selector, waiting)  # type: ignore[arg-type]
                    self._take_handoffs(selector, writing)
                    now = time.monotonic()
                    for table in (waiting, writing):
                        for sock in [s for s, w in table.items() if w.deadline <= now]:
                            self._drop(sock, selector, table)  # idle, trickling or not reading for too long
            finally:
                for table in (waiting, writing):
                    for sock in list(table):
                        self._drop(sock, selector, table)
                _close(listener)

    def _accept(self, listener: socket.socket, selector: selectors.BaseSelector,
                waiting: Dict[socket.socket, _Waiting]) -> None:
        for _ in range(64):  # a burst, then back to the others
            try:
                sock, _address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. out of file descriptors: keep serving the ones open
                log.warning("status server: accept failed: %s", error)
                return
            if len(waiting) >= self.limits.max_connections:
                oldest = min(waiting.values(), key=lambda w: w.deadline).sock
                self._drop(oldest, selector, waiting)
            sock.setblocking(False)
            waiting[sock] = _Waiting(sock, time.monotonic() + self.limits.header_timeout)
            selector.register(sock, selectors.EVENT_READ, "client")

    def _read_head(self, sock: socket.socket, selector: selectors.BaseSelector,
                   waiting: Dict[socket.socket, _Waiting]) -> None:
        state = waiting.get(sock)
        if state is None:
            return
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock, selector, waiting)
            return
        if state.closing:
            return
        state.head += data
        end = state.head.find(b"\r\n\r\n")
        if end < 0:
            if len(state.head) > self.limits.max_header_bytes:
                self._answer_now(sock, selector, waiting, _status_only(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE))
            return
        request = parse_head(bytes(state.head[:end]))
        if isinstance(request, Response):
            self._answer_now(sock, selector, waiting, request)
            return
        selector.unregister(sock)
        del waiting[sock]
        try:
            self._jobs.put_nowait((sock, request))
        except queue.Full:  # every worker busy and a backlog queued: say so rather than wait
            _send_quietly(sock, render(_status_only(HTTPStatus.SERVICE_UNAVAILABLE), head_only=False))
            _close(sock)

    def _answer_now(self, sock: socket.socket, selector: selectors.BaseSelector,
                    waiting: Dict[socket.socket, _Waiting], response: Response) -> None:
        """An error reply from this thread. Closing a socket with unread input would reset the connection
        and lose the reply, so the input is drained (a second at most) before it is closed."""
        _send_quietly(sock, render(response, head_only=False))
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        state = waiting[sock]
        state.closing, state.head = True, bytearray()
        state.deadline = min(state.deadline, time.monotonic() + 1.0)

    def _take_handoffs(self, selector: selectors.BaseSelector, writing: Dict[socket.socket, _Writing]) -> None:
        """The rest of the responses workers could not send at once, written from here as clients read."""
        while not self._handoff.empty():
            sock, rest = self._handoff.get_nowait()
            writing[sock] = _Writing(sock, rest, time.monotonic() + self.limits.write_timeout)
            selector.register(sock, selectors.EVENT_WRITE, "write")
            pending = sum(len(w.data) for w in writing.values())
            while pending > self.limits.max_pending_bytes and len(writing) > 1:
                oldest = min(writing.values(), key=lambda w: w.deadline)
                pending -= len(oldest.data)
                self._drop(oldest.sock, selector, writing)

    def _write_some(self, sock: socket.socket, selector: selectors.BaseSelector,
                    writing: Dict[socket.socket, _Writing]) -> None:
        state = writing.get(sock)
        if state is None:
            return
        try:
            sent = sock.send(state.data[:256 * 1024])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(sock, selector, writing)
            return
        state.data = state.data[sent:]
        if not state.data:  # all taken: done
            del writing[sock]
            selector.unregister(sock)
            _close(sock)

    @staticmethod
    def _drop(sock: socket.socket, selector: selectors.BaseSelector, table: Dict[socket.socket, Any]) -> None:
        if isinstance(table.pop(sock, None), _Writing):
            # A reader dropped before taking its answer: reset the connection, so that the kernel frees
            # what it still buffers for it too (a plain close would go on sending it).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(sock)
        _close(sock)

    # -- the workers --
    def _work(self, jobs: queue.Queue[Optional[Tuple[socket.socket, Request]]]) -> None:
        while True:
            job = jobs.get()
            if job is None or self._stopping.is_set():
                if job is not None:
                    _close(job[0])
                return
            sock, request = job
            data = memoryview(render(self._respond(request), head_only=request.method == "HEAD"))
            try:
                sent = sock.send(data)  # non-blocking: what the socket's buffer takes now
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:  # the client went away
                _close(sock)
                continue
            if sent == len(data) or self._stopping.is_set():
                _close(sock)
                continue
            self._handoff.put((sock, data[sent:]))  # a slow reader: the selector thread writes the rest
            self._wake()

    def _respond(self, request: Request) -> Response:
        try:
            return self.handler(request)
        except Exception as error:  # a failing page must not take the server down
            log.warning("status server: %s %s failed: %s: %s", request.method, request.path,
                        type(error).__name__, error)
            return Response(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(error).__name__}: {error}\n".encode())


def parse_head(head: bytes) -> Request | Response:
    """The request in `head` (the bytes before the blank line), or the error response to send instead."""
    try:
        lines = head.decode("iso-8859-1").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        return _status_only(HTTPStatus.BAD_REQUEST)
    if not version.startswith("HTTP/1."):
        return _status_only(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
    if method not in ("GET", "HEAD"):
        return Response(HTTPStatus.METHOD_NOT_ALLOWED, b"only GET and HEAD\n", headers=(("Allow", "GET, HEAD"),))
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            return _status_only(HTTPStatus.BAD_REQUEST)
        headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    if not parts.path.startswith("/"):
        return _status_only(HTTPStatus.BAD_REQUEST)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers)


def render(response: Response, head_only: bool) -> bytes:
    status = HTTPStatus(response.status)
    head = [f"HTTP/1.1 {status.value} {status.phrase}", f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}", "Connection: close", "X-Content-Type-Options: nosniff"]
    head += [f"{name}: {value}" for name, value in response.headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else response.body)


def _status_only(status: HTTPStatus) -> Response:
    return Response(status, f"{status.value} {status.phrase}\n".encode())


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.send(data)  # non-blocking, best effort: a short error reply fits any socket buffer


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
