"""PyNvVideoCodec, kept behind two small calls: load it (or say precisely why not) and run one decoder.

Everything PyNvVideoCodec-specific is here; ``nvdec_backend`` only sees ``DecoderSession``, which the CPU
tests also implement with a real software decoder fed the very same Annex B access units.
"""

from __future__ import annotations

from typing import Any, List, Optional, Protocol

from ..errors import KVSError
from ..pipe._annexb import H264, HEVC

GPU_EXTRA_HINT = 'pip install "kvs-parser-py[gpu]"'

#: What NVDEC writes: NV12 as decoded, or RGB converted on the GPU (planar 3 x H x W, or interleaved).
SURFACE_FORMATS = ("nv12", "rgbp", "rgb24")


class NvdecUnavailableError(KVSError, RuntimeError):
    """The nvdec backend cannot run here: PyNvVideoCodec is missing, or there is no usable NVIDIA GPU."""


class DecodedSurface(Protocol):
    """A picture still in the decoder's own memory: a DLPack buffer and the pts its packet was given."""

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any: ...


class DecoderSession(Protocol):
    """One hardware decoder for one codec configuration."""

    def submit(self, access_unit: bytes, pts: int) -> List[Any]:
        """Decode one Annex B access unit; return the surfaces that became ready (may raise on bad data)."""
        ...

    def drain(self) -> List[Any]:
        """End of stream: return every surface still held. The session is not used afterwards."""
        ...

    def surface_pts(self, surface: Any) -> Optional[int]:
        """The pts given to the packet the surface was decoded from, if the decoder kept it."""
        ...


def load_pynvvideocodec() -> Any:
    """Import PyNvVideoCodec; NvdecUnavailableError names what is missing (the extra, or the GPU/driver)."""
    try:
        import PyNvVideoCodec as nvc
    except ImportError as error:
        raise NvdecUnavailableError(
            f"decode backend 'nvdec' needs PyNvVideoCodec, which is not installed: {GPU_EXTRA_HINT}"
        ) from error
    except Exception as error:  # it checks the driver at import and raises RuntimeError without one
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NvdecUnavailableError(
            f"decode backend 'nvdec' needs an NVIDIA GPU with its driver (NVDEC); PyNvVideoCodec found none: "
            f"{first_line}"
        ) from error
    return nvc


def decoder_errors(nvc: Any) -> tuple[type[BaseException], ...]:
    """What PyNvVideoCodec raises on bad data or a decoder fault (all recoverable by a new decoder)."""
    found = [getattr(nvc, name, None) for name in ("PyNvVCException", "PyNvVCExceptionUnsupported")]
    return (RuntimeError, ValueError, *[e for e in found if isinstance(e, type)])


class PyNvDecoderSession:
    """A PyNvVideoCodec ``CreateDecoder`` decoder fed from memory, output left in device memory."""

    def __init__(self, nvc: Any, codec_id: str, surface_format: str, low_latency: bool, device: int,
                 stream: int) -> None:
        import numpy

        self._nvc = nvc
        self._np = numpy
        self._low_latency = low_latency
        codec = {H264: nvc.cudaVideoCodec.H264, HEVC: nvc.cudaVideoCodec.HEVC}[codec_id]
        colour = {"nv12": nvc.OutputColorType.NATIVE, "rgbp": nvc.OutputColorType.RGBP,
                  "rgb24": nvc.OutputColorType.RGB}[surface_format]
        latency = nvc.DisplayDecodeLatencyType.LOW if low_latency else nvc.DisplayDecodeLatencyType.NATIVE
        self._decoder = nvc.CreateDecoder(gpuid=device, codec=codec, cudacontext=0, cudastream=stream,
                                          usedevicememory=True, outputColorType=colour, latency=latency)

    def _packet(self, buffer: Any, pts: int) -> Any:
        packet = self._nvc.PacketData()
        packet.bsl_data = int(buffer.ctypes.data) if buffer is not None else 0
        packet.bsl = int(buffer.size) if buffer is not None else 0
        packet.pts = pts
        return packet

    def submit(self, access_unit: bytes, pts: int) -> List[Any]:
        buffer = self._np.frombuffer(access_unit, dtype=self._np.uint8)  # alive until Decode returns
        packet = self._packet(buffer, pts)
        if self._low_latency:
            # A Matroska block is one whole access unit: decode it now rather than waiting for the next.
            packet.decode_flag = self._nvc.VideoPacketFlag.ENDOFPICTURE
        return list(self._decoder.Decode(packet))

    def drain(self) -> List[Any]:
        packet = self._packet(None, 0)
        packet.decode_flag = self._nvc.VideoPacketFlag.ENDOFSTREAM
        return list(self._decoder.Decode(packet))

    def surface_pts(self, surface: Any) -> Optional[int]:
        getter = getattr(surface, "getPTS", None)
        value = getter() if callable(getter) else getattr(surface, "timestamp", None)
        return None if value is None else int(value)
