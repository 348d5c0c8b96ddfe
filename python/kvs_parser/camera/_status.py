"""What every host reports about each of its cameras: one snapshot type, one status line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Dict, Optional


class CameraState(str, Enum):
    STARTING = "starting"  # placed, no picture delivered yet
    RUNNING = "running"  # delivering
    PENDING = "pending"  # waiting for resources (a Ray actor no node can place yet)
    NOT_ANSWERING = "not_answering"  # its process/actor/node is restarting or gone
    ENDED = "ended"  # the stream ended (follow=False) or the camera was stopped
    FAILED = "failed"  # stopped by an error: `error` says which


@dataclass(frozen=True)
class CameraStatus:
    """One camera as its host sees it now (threads, worker processes and Ray actors alike)."""

    camera_id: str
    state: CameraState
    fps: float = 0.0
    latency_p50_ms: Optional[float] = None
    latency_p95_ms: Optional[float] = None
    latency_p99_ms: Optional[float] = None
    frames_delivered: int = 0
    frames_dropped: int = 0  # by a full queue (delivery: live); what fps_target keeps out is not a drop
    frames_redelivered: int = 0  # of the fragment in flight at the last stop (checkpointed)
    connection_resets: int = 0
    decode_errors: int = 0
    parse_errors: int = 0
    hook_errors: int = 0
    bytes: int = 0
    millis_behind_now: Optional[int] = None
    last_frame_ms: Optional[float] = None  # wall clock (epoch ms) of the last picture delivered
    resumed_after: Optional[str] = None  # the checkpointed fragment this run started after
    last_fragment: Optional[str] = None  # the last fragment completely delivered (checkpointed)
    error: Optional[str] = None  # the last error in words (redacted); set when FAILED, may be set otherwise
    where: str = ""  # which process, worker or node hosts it

    @property
    def delivering(self) -> bool:
        return self.state is CameraState.RUNNING

    def as_dict(self) -> Dict[str, Any]:
        values = asdict(self)
        values["state"] = self.state.value
        return values


def format_ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def status_line(status: CameraStatus) -> str:
    """One line for terminals and logs."""
    state = "" if status.state in (CameraState.RUNNING, CameraState.STARTING) else f"  {status.state.value.upper()}"
    error = "" if status.error is None else f"  {status.error}"
    redelivered = f"  redelivered {status.frames_redelivered}" if status.frames_redelivered else ""
    hook = f"  hook errors {status.hook_errors}" if status.hook_errors else ""
    return (
        f"{status.camera_id}: {status.fps:5.1f} fps  latency p50 {format_ms(status.latency_p50_ms)}  "
        f"p95 {format_ms(status.latency_p95_ms)}  frames {status.frames_delivered}  drops {status.frames_dropped}  "
        f"resets {status.connection_resets}{redelivered}{hook}{state}{error}"
    )
