"""One frame source per camera of a cameras.yaml, or a ConfigError naming the file, camera and field."""

from __future__ import annotations

from pathlib import Path
from typing import List, Union

from ..config import AppConfig, ConfigError, ConfigProblem
from ..decode import BackendRegistry, NvdecUnavailableError
from ..errors import KVSError
from ..getmedia import InvalidEndpointError, MissingCredentialsError, NoRegionError
from ..metrics import KVSMetrics
from ..source import FrameSource, source_from_config

# The cameras.yaml field each construction-time error is about.
_FIELDS = ((NoRegionError, "region"), (InvalidEndpointError, "endpoint_url"), (MissingCredentialsError, ""),
           (NvdecUnavailableError, "output.decode_backend"))


def sources_from_config(config: AppConfig, path: Union[str, Path], metrics: KVSMetrics) -> List[FrameSource]:
    """Every camera's source (not started); every camera that cannot have one is listed in the error."""
    sources: List[FrameSource] = []
    problems: List[ConfigProblem] = []
    backends = BackendRegistry().names()
    for index, camera in enumerate(config.cameras):
        backend = config.output_for(camera).decode_backend
        if backend not in backends:
            problems.append(ConfigProblem("output.decode_backend", f"unknown decoder backend {backend!r}: use one of "
                                          f"{', '.join(backends)}", index, camera.id))
            continue
        try:
            sources.append(source_from_config(config, camera, metrics=metrics))
        except (ValueError, KVSError) as error:  # region, credentials, endpoint; a backend this host lacks
            field = next((name for kind, name in _FIELDS if isinstance(error, kind)), "")
            problems.append(ConfigProblem(field, str(error), index, camera.id))
    if problems:
        raise ConfigError(path, problems)
    return sources
