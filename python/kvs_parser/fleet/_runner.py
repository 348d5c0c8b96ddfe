"""CameraRunner: run one camera, source -> hook (and optionally a sink such as a shared-memory ring).

The unit every way of running cameras shares: `kvs-parser run` (threads), fleet worker processes, and
anything else that hosts cameras (a Ray actor): start the source, call `run(stop)` on a thread of yours.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Union

from .._stop_flag import StopFlag
from ..source import FrameSource, FrameTimeout, SourceEnded
from ._progress import DeliveryTracker

Hook = Callable[[str, Any], Any]  # (camera_id, SourceFrame)
StopSignal = Union[threading.Event, StopFlag]  # only is_set() is used


class StopCamera(Exception):
    """Raised by a hook to stop its camera (the others go on); the message says why."""

Sink = Callable[[Any], Any]  # SourceFrame -> anything (e.g. FrameRing.put via fleet.worker)


class CameraRunner:
    """Reads `source` until `stop` is set or the source ends; each frame goes to `sink` then `hook`.

    `tracker` follows what was delivered so a restarted runner resumes exactly after it (frames of a
    partly delivered fragment that went out before are skipped). A raising hook stops this camera only;
    `failure` says why a camera stopped early.
    """

    def __init__(self, source: FrameSource, hook: Optional[Hook] = None, sink: Optional[Sink] = None,
                 tracker: Optional[DeliveryTracker] = None, read_timeout: float = 0.5) -> None:
        self.source, self.hook, self.sink = source, hook, sink
        self.tracker = tracker or DeliveryTracker()
        self.read_timeout = read_timeout
        self.frames = 0  # delivered (skipped repeats not counted)
        self.failure: Optional[str] = None

    @property
    def camera_id(self) -> str:
        return self.source.camera_id

    def run(self, stop: StopSignal) -> Optional[str]:
        """Runs until stop, the end of the source or a failure (returned, also kept in `failure`)."""
        source, hook, sink, tracker = self.source, self.hook, self.sink, self.tracker
        camera_id = source.camera_id
        while not stop.is_set():
            try:
                frame = source.read(timeout=self.read_timeout)
            except FrameTimeout:
                continue
            except SourceEnded:
                return None
            except Exception as error:  # the stream's fatal error: this camera stops, the others go on
                self.failure = f"{camera_id}: {type(error).__name__}: {error}"
                return self.failure
            if tracker.already_delivered(frame.fragment_number, frame.pts_ms):
                continue
            if sink is not None:
                sink(frame)
            tracker.delivered(frame.fragment_number, frame.pts_ms)
            self.frames += 1
            if hook is not None:
                try:
                    hook(camera_id, frame)
                except StopCamera as error:
                    return self._stop(f"{camera_id}: {error}")
                except Exception as error:
                    return self._stop(f"{camera_id}: hook raised {type(error).__name__}: {error}")
        return None

    def _stop(self, failure: str) -> str:
        """The camera stops, its reader too: nothing keeps decoding for nobody."""
        self.failure = failure
        self.source.stop()
        return failure

    def thread(self, stop: StopSignal) -> threading.Thread:
        """A (not yet started) thread running this camera."""
        return threading.Thread(target=self.run, args=(stop,), name=f"kvs-camera-{self.camera_id}", daemon=True)
