"""Frame sources from cameras.yaml: one per camera, GetMedia or HLS as its playback.mode says."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional, Union

from ._base import FrameSource
from ._getmedia import KVSGetMediaFrameSource
from ._hls import KVSHLSFrameSource
from ._options import retry_policy

if TYPE_CHECKING:  # cameras.yaml and metrics are the [app] extra, imported when a config is used
    from ..checkpoint import CheckpointStore
    from ..checkpoint._metrics import CheckpointMetrics
    from ..config import AppConfig, CameraConfig
    from ..metrics import KVSMetrics

log = logging.getLogger(__name__)

FrameSourceType = Union[KVSGetMediaFrameSource, KVSHLSFrameSource]


def source_from_config(
    app: AppConfig, camera: CameraConfig, *, metrics: Optional[KVSMetrics] = None, session: Any = None,
    checkpoint: Optional[CheckpointStore] = None, checkpoint_metrics: Optional[CheckpointMetrics] = None,
) -> FrameSource:
    """A started-when-you-say source for `camera`, with the file's region, endpoint and output merged in;
    with `checkpoint`, it resumes from and records to that store (GetMedia playback; HLS is not checkpointed)."""
    from ..config import PlaybackMode

    output = app.output_for(camera)
    region = app.region_for(camera)
    endpoint_url = app.endpoint_for(camera)
    playback = camera.playback
    getmedia = playback.getmedia
    common: dict[str, Any] = dict(
        stream_name=camera.kvs_stream_name, stream_arn=camera.kvs_stream_arn, region=region,
        start_selector=getmedia.start_selector, session=session,
        endpoint_url=endpoint_url, decode_options=output.decode_options(camera.fps_target),
        queue_max_size=getmedia.frame_queue.max_size, queue_policy=getmedia.frame_queue.policy,
        queue_timeout=getmedia.frame_queue.timeout_seconds, metrics=metrics,
        retry=retry_policy(getmedia.reconnect_delay_seconds, getmedia.max_reconnect_attempts,
                           unbounded=getmedia.max_reconnect_attempts is None),
    )
    if playback.mode is PlaybackMode.HLS:
        if checkpoint is not None:
            log.warning("camera %s: HLS has no fragment numbers to resume from: it is not checkpointed and starts "
                        "at its start selector", camera.id)
        if output.decode_backend != "pyav":
            log.warning("camera %s: HLS decodes with PyAV; decode_backend %r is ignored", camera.id,
                        output.decode_backend)
        return KVSHLSFrameSource(camera.id, **common)
    return KVSGetMediaFrameSource(camera.id, **common, backend=output.decode_backend,
                                  max_fragment_age_seconds=getmedia.max_fragment_age_seconds,
                                  chunk_size=getmedia.chunk_size, delivery=getmedia.delivery, checkpoint=checkpoint,
                                  checkpoint_metrics=checkpoint_metrics)
