"""The array library decoded device pictures live in: CuPy or PyTorch on the GPU, numpy on the CPU.

The NVDEC backend and the batch call only need a handful of operations (adopt a DLPack buffer as an owned
copy, reorder channels, stack), so they go through this small interface: the pure-Python logic runs on
the CPU with numpy in tests, and on the GPU with whichever of CuPy or PyTorch the application already uses.
Arrays from CuPy and PyTorch export both DLPack and ``__cuda_array_interface__``, so either library (and
most others) takes them without a copy.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence, Tuple

from ..errors import KVSError


class ArrayModuleUnavailableError(KVSError, RuntimeError):
    """The requested array library is not installed (or none of CuPy / PyTorch is)."""


class DeviceStream(Protocol):
    """A CUDA stream: ``handle`` for the decoder, ``with stream:`` makes it current for the copies."""

    handle: int

    def __enter__(self) -> Any: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def synchronize(self) -> None: ...


class HostStream:
    """The CPU's stand-in: work is done when the call returns."""

    handle = 0

    def __enter__(self) -> HostStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def synchronize(self) -> None:
        return None


class _CupyStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.handle = int(stream.ptr)

    def __enter__(self) -> Any:
        return self._stream.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        self._stream.__exit__(*exc_info)

    def synchronize(self) -> None:
        self._stream.synchronize()


class _TorchStream:
    def __init__(self, torch: Any, stream: Any) -> None:
        self._torch = torch
        self._stream = stream
        self._context: Any = None
        self.handle = int(stream.cuda_stream)

    def __enter__(self) -> Any:
        self._context = self._torch.cuda.stream(self._stream)
        return self._context.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        self._context.__exit__(*exc_info)

    def synchronize(self) -> None:
        self._stream.synchronize()


class ArrayModule(Protocol):
    """What the GPU backend and the batch call do with arrays."""

    name: str
    device: str  # "cpu" or "cuda:N"

    def from_dlpack(self, buffer: Any) -> Any:
        """A view of a DLPack-exporting buffer (no copy)."""
        ...

    def owned(self, array: Any, shape: Optional[Tuple[int, ...]] = None, reverse_axis: Optional[int] = None) -> Any:
        """A contiguous copy that owns its memory, optionally reshaped, optionally with ``reverse_axis``
        reversed (RGB to BGR); the decoder's own surfaces are reused, so pictures must be copied out."""
        ...

    def to_chw(self, array: Any) -> Any:
        """H x W x C (or H x W) as C x H x W."""
        ...

    def stack(self, arrays: Sequence[Any]) -> Any: ...

    def new_stream(self) -> DeviceStream:
        """A CUDA stream of its own for one decoder: its pictures and their copies are ordered on it."""
        ...


class NoSuchDeviceError(KVSError, RuntimeError):
    """The GPU index does not exist on this machine (or it has no usable NVIDIA GPU at all)."""


def _check_device(device: int, count: int, library: str) -> None:
    if count == 0:
        raise NoSuchDeviceError(f"no NVIDIA GPU is visible to {library} on this machine")
    if not 0 <= device < count:
        raise NoSuchDeviceError(f"GPU {device} does not exist ({library} sees {count}: 0..{count - 1})")


def _cupy_device_count(cupy: Any) -> int:
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CUDARuntimeError without a driver: the same as no GPU
        return 0


class NumpyArrays:
    """Host arrays: batch assembly and shapes are tested with these on machines without a GPU."""

    name = "numpy"
    device = "cpu"

    def __init__(self) -> None:
        import numpy

        self._np = numpy

    def from_dlpack(self, buffer: Any) -> Any:
        return self._np.from_dlpack(buffer)

    def owned(self, array: Any, shape: Optional[Tuple[int, ...]] = None, reverse_axis: Optional[int] = None) -> Any:
        out = self._np.array(array if reverse_axis is None else self._np.flip(array, reverse_axis), copy=True)
        return out if shape is None else out.reshape(shape)

    def to_chw(self, array: Any) -> Any:
        return array[self._np.newaxis] if array.ndim == 2 else self._np.moveaxis(array, -1, 0)

    def stack(self, arrays: Sequence[Any]) -> Any:
        return self._np.stack(arrays)

    def new_stream(self) -> DeviceStream:
        return HostStream()


class CupyArrays:
    """CuPy arrays on one GPU."""

    name = "cupy"

    def __init__(self, device: int = 0) -> None:
        try:
            import cupy
        except ImportError as error:
            raise ArrayModuleUnavailableError("CuPy is not installed") from error
        self._cp = cupy
        _check_device(device, _cupy_device_count(cupy), "CuPy")
        self._device = cupy.cuda.Device(device)
        self.device = f"cuda:{device}"

    def from_dlpack(self, buffer: Any) -> Any:
        with self._device:
            try:
                return self._cp.from_dlpack(buffer)
            except (TypeError, BufferError, AttributeError):
                return self._cp.asarray(buffer)  # through __cuda_array_interface__, still no copy

    def owned(self, array: Any, shape: Optional[Tuple[int, ...]] = None, reverse_axis: Optional[int] = None) -> Any:
        with self._device:
            source = array if reverse_axis is None else self._cp.flip(array, reverse_axis)
            out = self._cp.array(source, copy=True, order="C")
            return out if shape is None else out.reshape(shape)

    def to_chw(self, array: Any) -> Any:
        return array[self._cp.newaxis] if array.ndim == 2 else self._cp.moveaxis(array, -1, 0)

    def stack(self, arrays: Sequence[Any]) -> Any:
        with self._device:
            return self._cp.stack(arrays)

    def new_stream(self) -> DeviceStream:
        with self._device:
            return _CupyStream(self._cp.cuda.Stream(non_blocking=True))


class TorchArrays:
    """PyTorch CUDA tensors on one GPU."""

    name = "torch"

    def __init__(self, device: int = 0) -> None:
        try:
            import torch
        except ImportError as error:
            raise ArrayModuleUnavailableError("PyTorch is not installed") from error
        self._torch = torch
        _check_device(device, torch.cuda.device_count() if torch.cuda.is_available() else 0, "PyTorch")
        self._device = torch.device("cuda", device)
        self.device = f"cuda:{device}"

    def from_dlpack(self, buffer: Any) -> Any:
        try:
            return self._torch.from_dlpack(buffer)
        except (TypeError, BufferError, AttributeError, RuntimeError):
            return self._torch.as_tensor(buffer, device=self._device)  # __cuda_array_interface__, no copy

    def owned(self, array: Any, shape: Optional[Tuple[int, ...]] = None, reverse_axis: Optional[int] = None) -> Any:
        # flip() always copies; clone() copies the rest. Either result owns contiguous memory.
        out = self._torch.flip(array, (reverse_axis,)) if reverse_axis is not None else array.clone()
        out = out.contiguous()
        return out if shape is None else out.reshape(shape)

    def to_chw(self, array: Any) -> Any:
        return array.unsqueeze(0) if array.dim() == 2 else array.permute(2, 0, 1)

    def stack(self, arrays: Sequence[Any]) -> Any:
        return self._torch.stack(list(arrays))

    def new_stream(self) -> DeviceStream:
        return _TorchStream(self._torch, self._torch.cuda.Stream(self._device))


ARRAY_MODULES = ("cupy", "torch", "numpy")


def array_module(name: Optional[str] = None, device: int = 0) -> ArrayModule:
    """``name`` ("cupy", "torch", "numpy"), or the first of CuPy, PyTorch that is installed."""
    if name == "numpy":
        return NumpyArrays()
    if name == "cupy":
        return CupyArrays(device)
    if name == "torch":
        return TorchArrays(device)
    if name is not None:
        raise ValueError(f"array module must be one of {ARRAY_MODULES}, not {name!r}")
    for candidate in (CupyArrays, TorchArrays):
        try:
            return candidate(device)
        except ArrayModuleUnavailableError:
            continue
    raise ArrayModuleUnavailableError(
        "GPU pictures need CuPy or PyTorch to hold them as device arrays; install one (e.g. cupy-cuda12x)"
    )
