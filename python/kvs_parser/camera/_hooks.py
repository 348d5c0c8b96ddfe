"""The per-frame hook: loading it from ``module:function``, and what happens when it raises, in every host.

A hook that raises is reported at once (a log line, the camera's status, the
``kvs_getmedia_hook_errors_total`` metric) and then the policy applies: ``stop`` stops that camera (its
reader too, so nothing keeps decoding for nobody), ``continue`` logs and goes on with the next frame. A hook
that raises ``StopCamera`` stops its camera whatever the policy.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Union

from .._redact import redact

if TYPE_CHECKING:  # prometheus_client is the [app] extra
    from ..metrics import KVSMetrics

log = logging.getLogger("kvs_parser.run")

Hook = Callable[[str, Any], Any]

REPEAT_REPORT_SECONDS = 5.0  # under `continue`, at most one line per camera this often


class StopCamera(Exception):
    """Raised by a hook to stop its camera (the others go on); the message says why."""


class HookErrorPolicy(str, Enum):
    STOP = "stop"  # stop the camera whose hook raised (the default)
    CONTINUE = "continue"  # log, count and go on with the next frame


def load_hook(spec: str) -> Hook:
    """`module:function` (or `module:object.method`); the current directory is importable, as for
    `python -m`, so a hook module next to cameras.yaml needs no PYTHONPATH."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--hook must be module:function, not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"--hook {spec} is not callable")
    hook: Callable[[str, Any], Any] = target
    return hook


@dataclass
class _CameraHookState:
    errors: int = 0
    last: str = ""
    stopped: bool = False
    reported_at: float = float("-inf")


class HookRunner:
    """Calls the hook for each frame and applies the error policy; thread-safe across cameras."""

    def __init__(self, hook: Hook, spec: str, policy: Union[HookErrorPolicy, str] = HookErrorPolicy.STOP,
                 metrics: Optional[KVSMetrics] = None) -> None:
        self.hook, self.spec, self.policy, self.metrics = hook, spec, HookErrorPolicy(policy), metrics
        self._states: Dict[str, _CameraHookState] = {}
        self._lock = threading.Lock()

    def call(self, camera_id: str, frame: Any) -> bool:
        """Runs the hook on one frame; False when the camera must stop (it raised, policy `stop`)."""
        try:
            self.hook(camera_id, frame)
            return True
        except Exception as error:
            return self._failed(camera_id, error)

    def _failed(self, camera_id: str, error: Exception) -> bool:
        stop = self.policy is HookErrorPolicy.STOP or isinstance(error, StopCamera)
        now = time.monotonic()
        with self._lock:
            state = self._states.setdefault(camera_id, _CameraHookState())
            state.errors += 1
            state.last = f"{type(error).__name__}: {redact(str(error))}"
            state.stopped = stop
            report = stop or now - state.reported_at >= REPEAT_REPORT_SECONDS
            if report:
                state.reported_at = now
            errors = state.errors
        if self.metrics is not None:
            self.metrics.hook_errors.labels(camera_id).inc()
        if report:
            then = ("camera stopped (--on-hook-error continue logs and goes on)" if stop
                    else f"continuing ({errors} hook error(s) so far)")
            log.error("camera %s: hook %s raised %s; %s", camera_id, self.spec, state.last, then)
        return not stop

    def failure(self, camera_id: str) -> Optional[str]:
        """What stopped the camera, or None."""
        with self._lock:
            state = self._states.get(camera_id)
            return None if state is None or not state.stopped else f"hook raised {state.last}"

    def errors(self, camera_id: str) -> int:
        with self._lock:
            state = self._states.get(camera_id)
            return 0 if state is None else state.errors

    def status(self, camera_id: str) -> str:
        """A suffix for the camera's status line: empty while the hook never raised."""
        with self._lock:
            state = self._states.get(camera_id)
            if state is None:
                return ""
            if state.stopped:
                return f"  STOPPED: hook raised {state.last}"
            return f"  hook errors {state.errors} (last {state.last})"


HookSpec = Union[str, Hook, None]  # "module:function" (imported where the camera runs), a callable, or none


def hook_runner(hook: HookSpec, policy: Union[HookErrorPolicy, str] = HookErrorPolicy.STOP,
                metrics: Optional[KVSMetrics] = None) -> Optional[HookRunner]:
    """The HookRunner for a hook given either way; None without a hook."""
    if hook is None:
        return None
    function = load_hook(hook) if isinstance(hook, str) else hook
    name = hook if isinstance(hook, str) else getattr(hook, "__name__", "hook")
    return HookRunner(function, name, policy, metrics)
