"""Request and response shapes shared by the HTTP server and the operation handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, Optional

from ._body import Piece
from ._faults import Fault


@dataclass
class Request:
    operation: str
    body: Dict[str, Any]
    query: Dict[str, str] = field(default_factory=dict)
    fault: Optional[Fault] = None
    stream: str = ""  # the stream the call names, as fault rules and hooks see it ('' when none)


@dataclass
class JsonResponse:
    body: Dict[str, Any]
    status: int = 200


@dataclass
class BytesResponse:
    content_type: str
    data: bytes


@dataclass
class StreamResponse:
    content_type: str
    pieces: Iterator[Piece]
    on_close: Callable[[], None] = lambda: None


Response = Any  # one of the three above
