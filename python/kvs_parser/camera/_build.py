"""Building every camera of a cameras.yaml, or one ConfigError naming the file and each camera and field
that cannot be built (checked where the run starts, whichever host then runs the cameras)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, TypeVar, Union

from ..config import AppConfig, CameraConfig, ConfigError, ConfigProblem
from ..decode import BackendRegistry, NvdecUnavailableError
from ..errors import KVSError
from ..getmedia import InvalidEndpointError, MissingCredentialsError, NoRegionError

T = TypeVar("T")

# The cameras.yaml field each construction-time error is about.
_FIELDS = ((NoRegionError, "region"), (InvalidEndpointError, "endpoint_url"), (MissingCredentialsError, ""),
           (NvdecUnavailableError, "output.decode_backend"))


def build_all(config: AppConfig, path: Union[str, Path], build: Callable[[CameraConfig], T]) -> List[T]:
    """`build(camera)` for every camera; the problems of all that fail are raised together."""
    built: List[T] = []
    problems: List[ConfigProblem] = []
    backends = BackendRegistry().names()
    for index, camera in enumerate(config.cameras):
        backend = config.output_for(camera).decode_backend
        if backend not in backends:
            problems.append(ConfigProblem("output.decode_backend", f"unknown decoder backend {backend!r}: use one of "
                                          f"{', '.join(backends)}", index, camera.id))
            continue
        try:
            built.append(build(camera))
        except (ValueError, KVSError) as error:  # region, credentials, endpoint; a backend this host lacks
            field = next((name for kind, name in _FIELDS if isinstance(error, kind)), "")
            problems.append(ConfigProblem(field, str(error), index, camera.id))
    if problems:
        raise ConfigError(path, problems)
    return built
