"""FusionRT's exceptions: one class per library status code.

Every error the C++ library returns (a ``Status`` with a code and a message naming the file,
layer or tensor) is raised as the subclass of :class:`FusionRTError` for its code; ``str(e)``
is the library's message and ``e.code`` the code's name (``"OutOfRange"``, ...).
Misuse caught on the Python side (an array of the wrong dtype, a non-contiguous array) raises
the built-in ``TypeError`` / ``ValueError`` instead, naming the tensor.
"""
from __future__ import annotations


class FusionRTError(RuntimeError):
    """Base class; ``code`` is the library's StatusCode name."""

    code: str = "Unknown"

    @property
    def message(self) -> str:
        return str(self)


class InvalidArgumentError(FusionRTError):
    """A malformed argument: flag, shape, address, a missing input."""

    code = "InvalidArgument"


class InvalidModelError(FusionRTError):
    """The model violates the ONNX specification."""

    code = "InvalidModel"


class UnsupportedError(FusionRTError):
    """Valid, but FusionRT does not implement it (operator, attribute, dtype, device)."""

    code = "Unsupported"


class NotFoundError(FusionRTError):
    """A named file, tensor or node does not exist."""

    code = "NotFound"


class OutOfRangeError(FusionRTError):
    """An index, axis or shape outside its bounds, including optimization profiles."""

    code = "OutOfRange"


class ResourceExhaustedError(FusionRTError):
    """An allocation beyond the configured limit (``memory_limit``)."""

    code = "ResourceExhausted"


class IoError(FusionRTError):
    """A filesystem failure."""

    code = "IoError"


class InvalidEngineError(FusionRTError):
    """An engine file that is corrupt, truncated, or built for another target or version."""

    code = "InvalidEngine"


class InternalError(FusionRTError):
    """A broken invariant inside FusionRT (a bug: please report it)."""

    code = "Internal"


_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, InvalidModelError, UnsupportedError, NotFoundError, OutOfRangeError,
    ResourceExhaustedError, IoError, InvalidEngineError, InternalError)}


def error_class(code: str) -> type[FusionRTError]:
    """The class raised for a status code name (FusionRTError for an unknown one)."""
    return _BY_CODE.get(code, FusionRTError)


__all__ = ["FusionRTError", "error_class"] + [cls.__name__ for cls in _BY_CODE.values()]
