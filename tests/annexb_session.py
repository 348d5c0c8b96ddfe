"""A software stand-in for NVDEC in the CPU tests: FFmpeg's decoder fed exactly what NVDEC is fed.

``NvdecBackend(session_factory=...)`` runs its real track decoder (Annex B feed, pts mapping, keyframe
resync, reopen, output layouts) with this session on machines without a GPU. FFmpeg gets no extradata:
like NVDEC's parser, it only sees the Annex B access units, so parameter sets missing from them fail here.
"""

from __future__ import annotations

from typing import Any, List, Optional

import av
import numpy as np

from kvs_parser.decode import DecodeOptions, DeviceStream, NumpyArrays, NvdecBackend

FFMPEG_DECODERS = {"V_MPEG4/ISO/AVC": "h264", "V_MPEGH/ISO/HEVC": "hevc"}
ERRORS = (av.error.FFmpegError, ValueError)


class HostSurface:
    """A decoded picture as a DLPack buffer, with the pts of its packet (as NVDEC's surfaces carry)."""

    def __init__(self, array: np.ndarray, pts: Optional[int]) -> None:
        self.array = array
        self.pts = pts

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self.array.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self.array.__dlpack_device__()


class AnnexBSession:
    """FFmpeg decoding Annex B access units; writes NV12, planar RGB or interleaved RGB as NVDEC does."""

    def __init__(self, codec_id: str, surface: str, low_latency: bool, stream: DeviceStream) -> None:
        self.codec_id, self.surface, self.low_latency = codec_id, surface, low_latency
        self.context = av.CodecContext.create(FFMPEG_DECODERS[codec_id], "r")
        self.fed: List[bytes] = []

    def submit(self, access_unit: bytes, pts: int) -> List[HostSurface]:
        self.fed.append(access_unit)
        packet = av.Packet(access_unit)
        packet.pts = pts
        return [self._surface(picture) for picture in self.context.decode(packet)]

    def drain(self) -> List[HostSurface]:
        return [self._surface(picture) for picture in self.context.decode(None)]

    def surface_pts(self, surface: HostSurface) -> Optional[int]:
        return surface.pts

    def _surface(self, picture: av.VideoFrame) -> HostSurface:
        if self.surface == "nv12":
            array = picture.to_ndarray(format="nv12")
        elif self.surface == "rgbp":  # planes one under the other, (3h, w), as PyNvVideoCodec may hand them
            rgb = picture.to_ndarray(format="rgb24")
            array = np.ascontiguousarray(rgb.transpose(2, 0, 1)).reshape(3 * rgb.shape[0], rgb.shape[1])
        else:
            array = picture.to_ndarray(format="rgb24")
        return HostSurface(array, picture.pts)


class SessionLog:
    """Opens AnnexBSessions and keeps them, so tests can look at what each decoder was fed."""

    def __init__(self) -> None:
        self.sessions: List[AnnexBSession] = []

    def __call__(self, codec_id: str, surface: str, low_latency: bool, stream: DeviceStream) -> AnnexBSession:
        session = AnnexBSession(codec_id, surface, low_latency, stream)
        self.sessions.append(session)
        return session


def cpu_nvdec_backend(options: Optional[DecodeOptions] = None, log: Optional[SessionLog] = None) -> NvdecBackend:
    return NvdecBackend(options, arrays=NumpyArrays(), session_factory=log or SessionLog(), errors=ERRORS)
