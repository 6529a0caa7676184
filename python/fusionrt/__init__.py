"""FusionRT: build ONNX models into optimized engines and run them from Python.

The heavy lifting is the C++ library (bound in ``fusionrt._fusionrt`` over the public API in
include/fusionrt/); this layer adds the one-call :func:`build` and argument conversions.

    engine = fusionrt.build("model.onnx", profiles=[{"x": ((1, 1, 64), (2, 16, 64), (8, 128, 64))}])
    ctx = engine.create_context()
    outputs = ctx.run({"x": x})          # {name: numpy.ndarray}

See docs/python.md.
"""
from __future__ import annotations

import os
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

from .errors import *  # noqa: F401,F403  (the exception classes are part of the API)
from .errors import FusionRTError, error_class  # noqa: F401
from ._fusionrt import (  # noqa: F401
    BuilderConfig,
    Engine,
    ExecutionContext,
    LayerInfo,
    Network,
    OptimizationProfile,
    TensorInfo,
    __version__,
)
from . import _fusionrt

Shape = Sequence[int]
# One profile: {input name: (min, opt, max)} or an OptimizationProfile.
ProfileSpec = Union[OptimizationProfile, Mapping[str, Tuple[Shape, Shape, Shape]]]
ModelSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Network]


def parse_onnx(model: ModelSource, base_dir: Optional[str] = None) -> Network:
    """Parses an ONNX model given as a path or as serialized bytes.

    ``base_dir`` is where external data files are looked up for bytes (default: the current
    directory); for a path it is the model's folder.
    """
    if isinstance(model, Network):
        return model
    if isinstance(model, (bytes, bytearray, memoryview)):
        return _fusionrt.parse_onnx_bytes(bytes(model), base_dir or ".")
    if isinstance(model, (str, os.PathLike)):
        return _fusionrt.parse_onnx_file(os.fspath(model))
    raise TypeError(f"model: expected a path, bytes or a Network, got {type(model).__name__}")


def make_profile(spec: ProfileSpec) -> OptimizationProfile:
    """An OptimizationProfile from {input: (min, opt, max)} (or one, returned as is)."""
    if isinstance(spec, OptimizationProfile):
        return spec
    profile = OptimizationProfile()
    for name, bounds in spec.items():
        if len(bounds) != 3:
            raise ValueError(f'profile for "{name}": expected (min, opt, max), got {bounds!r}')
        lo, opt, hi = (list(map(int, b)) for b in bounds)
        profile.set_shapes(name, lo, opt, hi)
    return profile


def build(model: ModelSource, *, fp16: bool = False, bf16: bool = False,
          profiles: Union[None, ProfileSpec, Sequence[ProfileSpec]] = None,
          memory_limit: int = 0, optimization_level: int = 3, device: str = "auto",
          verbose: bool = False, log: Optional[Callable[[str], None]] = None,
          config: Optional[BuilderConfig] = None) -> Engine:
    """Builds an engine from an ONNX model (path or bytes) or a Network.

    The keywords mirror ``fusionrt build``: ``profiles`` is one profile or a list of them, each
    ``{input: (min, opt, max)}``; every dynamic input needs bounds in each profile. ``log``
    receives the build's progress lines. A ready ``config`` replaces the keywords.
    """
    network = parse_onnx(model)
    if config is None:
        config = BuilderConfig()
        config.fp16, config.bf16 = fp16, bf16
        if profiles is None:
            specs: Sequence[ProfileSpec] = []
        elif isinstance(profiles, (Mapping, OptimizationProfile)):
            specs = [profiles]
        else:
            specs = list(profiles)
        config.profiles = [make_profile(p) for p in specs]
        config.memory_limit = memory_limit
        config.optimization_level = optimization_level
        config.device = device
        config.verbose = verbose
        config.log = log
    return _fusionrt.build_network(network, config)


def load(path: Union[str, "os.PathLike[str]"]) -> Engine:
    """Loads an engine file (same as Engine.load)."""
    return Engine.load(os.fspath(path))


__all__ = [
    "BuilderConfig", "Engine", "ExecutionContext", "LayerInfo", "Network", "OptimizationProfile",
    "TensorInfo", "build", "load", "make_profile", "parse_onnx", "__version__",
] + list(errors.__all__)
