"""The decoder backend interface and a registry of backends by name.

Frame sources only talk to these Protocols, so a GPU backend (NVDEC, handing frames over as device
arrays) can be registered next to PyAV without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

from .._kvsparser import TrackInfo
from ._model import DecodedPicture, DecodeOptions, DecodeStats, EncodedFrame
from ._sampler import FpsSampler

DEFAULT_BACKEND = "pyav"


class TrackDecoder(Protocol):
    """Decodes the frames of one track with one fixed codec configuration."""

    stats: DecodeStats

    def decode(self, frame: EncodedFrame) -> list[DecodedPicture]:
        """Send one frame; return the pictures that became ready (possibly none, never raises on bad data)."""
        ...

    def flush(self) -> list[DecodedPicture]:
        """Return the pictures still held by the decoder; the decoder stays usable afterwards."""
        ...

    def close(self) -> None: ...


class DecoderBackend(Protocol):
    """Opens track decoders; ``options`` fix output format, size, threading and sampling."""

    name: str

    def open(self, track: TrackInfo, sampler: Optional[FpsSampler] = None) -> TrackDecoder:
        """Open a decoder for ``track``; ``sampler`` decides which pictures are converted and returned.

        Raises ``UnsupportedCodecError`` if the backend cannot decode the track's codec.
        """
        ...


BackendFactory = Callable[[DecodeOptions], DecoderBackend]


def _pyav_factory(options: DecodeOptions) -> DecoderBackend:
    from ._pyav_backend import PyAVBackend  # imported late so other backends work without PyAV

    return PyAVBackend(options)


def _nvdec_factory(options: DecodeOptions) -> DecoderBackend:
    from ._nvdec_backend import NvdecBackend  # PyNvVideoCodec is only imported when nvdec is chosen

    return NvdecBackend(options)


def _gstreamer_factory(options: DecodeOptions) -> DecoderBackend:
    from ._gstreamer_backend import GStreamerBackend  # PyGObject is only imported when gstreamer is chosen

    return GStreamerBackend(options)


def _builtin_factories() -> dict[str, BackendFactory]:
    return {DEFAULT_BACKEND: _pyav_factory, "nvdec": _nvdec_factory, "gstreamer": _gstreamer_factory}


@dataclass
class BackendRegistry:
    """Backend factories by name; ``BackendRegistry()`` already holds the built-in ``"pyav"`` (CPU) and
    ``"nvdec"`` (NVIDIA GPU, the ``[gpu]`` extra; choosing it without PyNvVideoCodec or a GPU raises
    ``NvdecUnavailableError``) and ``"gstreamer"`` (a GStreamer pipeline, ``DecodeOptions.pipeline``; the
    ``[gstreamer]`` extra, else ``GStreamerUnavailableError``)."""

    _factories: dict[str, BackendFactory] = field(default_factory=_builtin_factories)

    def register(self, name: str, factory: BackendFactory, *, replace: bool = False) -> None:
        if name in self._factories and not replace:
            raise ValueError(f"decoder backend {name!r} is already registered")
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str = DEFAULT_BACKEND, options: Optional[DecodeOptions] = None) -> DecoderBackend:
        try:
            factory = self._factories[name]
        except KeyError:
            raise ValueError(f"unknown decoder backend {name!r} (known: {', '.join(self.names())})") from None
        return factory(options or DecodeOptions())
