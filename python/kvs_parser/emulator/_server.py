"""The HTTP side: a threading server on 127.0.0.1 that routes rest-json POSTs and HLS GETs.

Every open connection is tracked so that shutdown can cut streaming and idle keep-alive connections
and then join every handler thread (ThreadingHTTPServer with block_on_close).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Set, Tuple
from urllib.parse import parse_qsl, urlsplit

from ._body import BodySender, ConnectionDropped, EndedEarly
from ._errors import AwsError
from ._faults import Fault
from ._hooks import BytesSent
from ._state import ServiceState
from ._wire import BytesResponse, JsonResponse, Request, Response, StreamResponse

LOG = logging.getLogger("kvs_parser.emulator")
Handler = Callable[[ServiceState, Request], Response]
Routes = Dict[Tuple[str, str], Tuple[str, Handler]]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
# Operations served by a stream's data endpoint (GetDataEndpoint's answer), not the control plane.
DATA_PLANE = frozenset({"GetMedia", "ListFragments", "GetMediaForFragmentList", "GetHLSStreamingSessionURL",
                        "GetHLSMasterPlaylist", "GetHLSMediaPlaylist", "GetTSFragment", "GetMP4InitFragment",
                        "GetMP4MediaFragment"})


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], state: ServiceState, routes: Routes):
        self.state = state
        self.routes = routes
        self.connections: Set[socket.socket] = set()
        self.retired = False  # a data endpoint moved away from: data-plane calls get no answer
        self.connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client resetting an idle keep-alive connection (FFmpeg's HLS reader does when it closes) is
        not an error worth a traceback on stderr."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def cut_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug("%s " + format, self.address_string(), *args)

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def _dispatch(self, method: str) -> None:
        request_id = str(uuid.uuid4())
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        state = self.server.state
        route = self.server.routes.get((method, url.path))
        try:
            if route is None:
                raise AwsError("InvalidArgumentException", f"unknown operation {method} {url.path}", 404)
            operation, handler = route
            body = json.loads(raw or b"{}") if method == "POST" else {}
            if not isinstance(body, dict):
                raise AwsError("InvalidArgumentException", "request body is not a JSON object")
            request = Request(operation, body, dict(parse_qsl(url.query)))
            if method == "POST":
                state.check_authorization(self.headers.get("Authorization", ""), _CREDENTIAL)
            if self.server.retired and operation in DATA_PLANE:
                self._hang_up()  # a data endpoint that moved away: it no longer answers
                return
            request.stream = state.stream_key(body, request.query)
            request.fault = state.faults.on_call(operation, request.stream)
            fault = request.fault
            if fault is not None and fault.hang_seconds:
                state.faults.note("hang before headers")
                state.stopping.wait(fault.hang_seconds)
                self._hang_up()
                return
            if fault is not None and fault.error:
                state.faults.note(fault.error)
                raise AwsError(fault.error, "injected fault", fault.status)
            response = handler(state, request)
        except AwsError as error:
            self._send(*error.response(request_id), request=None)
            return
        except (ValueError, KeyError, TypeError) as error:
            self._send(*AwsError("InvalidArgumentException", str(error)).response(request_id), request=None)
            return
        if isinstance(response, StreamResponse):
            self._stream(response, request, request_id)
        elif isinstance(response, BytesResponse):
            self._send(200, {"Content-Type": response.content_type}, response.data, request=request)
        else:
            assert isinstance(response, JsonResponse)
            headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
            self._send(response.status, headers, json.dumps(response.body).encode(), request=request)

    def _send(self, status: int, headers: Dict[str, str], body: bytes, *, request: Optional[Request]) -> None:
        """A whole response; `request` is None for an error answer (hooks see no operation for it)."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._tell_sent(request, len(body), frame=False)
        self.wfile.write(body)

    def _tell_sent(self, request: Optional[Request], size: int, *, frame: bool) -> None:
        sent = self.server.state.hooks.bytes_sent
        if sent:
            operation, stream = (request.operation, request.stream) if request is not None else ("", "")
            sent.fire(BytesSent(operation, stream, size, frame))

    def _stream(self, response: StreamResponse, request: Request, request_id: str) -> None:
        faults = self.server.state.faults
        sender = BodySender(self.wfile, request.fault, self.server.state.stopping, note=faults.note)
        try:
            headers = {"Content-Type": response.content_type, "Transfer-Encoding": "chunked",
                       "x-amzn-RequestId": request_id}
            if request.fault is not None and request.fault.spoils_headers:
                self._spoiled_headers(headers, request.fault)
            else:
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
            for piece in response.pieces:
                self._tell_sent(request, len(piece.data), frame=piece.frame)
                sender.send(piece)
            sender.finish()
        except ConnectionDropped:
            faults.note("cut")
            self._abort()
        except EndedEarly:
            faults.note("ended mid-fragment")
            sender.finish()
        except OSError:  # the client went away
            self.close_connection = True
        finally:
            close = getattr(response.pieces, "close", None)
            if close is not None:
                close()
            response.on_close()

    def _spoiled_headers(self, headers: Dict[str, str], fault: Fault) -> None:
        """The 200 response's header block as `fault` spoils it: lines trickled one at a time, or cut
        (ConnectionDropped) after `cut_headers_after_lines` of them."""
        fillers = {f"x-emulator-filler-{n}": str(n) for n in range(fault.header_filler_lines)}
        lines = [f"{self.protocol_version} 200 OK", *(f"{k}: {v}" for k, v in {**headers, **fillers}.items()), ""]
        stopping = self.server.state.stopping
        self.server.state.faults.note("spoiled headers")
        for number, line in enumerate(lines):
            if fault.cut_headers_after_lines is not None and number >= fault.cut_headers_after_lines:
                raise ConnectionDropped
            if number and fault.header_line_interval and stopping.wait(fault.header_line_interval):
                raise ConnectionDropped
            self.wfile.write(line.encode("latin-1") + b"\r\n")
            self.wfile.flush()

    def _hang_up(self) -> None:
        """Closes the connection without a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _abort(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
