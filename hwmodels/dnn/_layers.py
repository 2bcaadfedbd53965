"""Layer descriptions of a network: traced from a PyTorch module or read from a YAML list.

Only layers that multiply-accumulate with weights are costed (``conv2d``, ``linear``);
element-wise, normalization and pooling modules are known and skipped (their energy is
neglected: under 1% of the MACs of the zoo models). Any other leaf module stops the trace
with an error naming it, so a network is never silently under-counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "KINDS",
    "Layer",
    "UnsupportedLayerError",
    "layers_from_list",
    "layers_to_list",
    "trace_model",
]

#: Costed layer kinds.
KINDS = ("conv2d", "linear")

#: Leaf modules without weights-times-activations arithmetic; skipped by the tracer.
_SKIPPED = (
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten",
    "GELU", "Hardsigmoid", "Hardswish", "Identity", "LayerNorm", "LeakyReLU", "MaxPool2d",
    "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Tanh",
)


class UnsupportedLayerError(ValueError):
    """A module (or YAML entry) that the cost model cannot describe."""


def _pair(v: Any, what: str) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    if isinstance(v, Sequence) and len(v) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) for x in v
    ):
        return (int(v[0]), int(v[1]))
    raise ValueError(f"{what} must be an integer or a pair of integers, not {v!r}")


@dataclass(frozen=True)
class Layer:
    """One multiply-accumulate layer, per inference (batch 1).

    A ``linear`` layer is a 1x1 convolution over ``in_size`` positions (``(1, 1)`` for a
    plain vector, ``(tokens, 1)`` for a sequence).

    Parameters
    ----------
    name : str
        Module path (``layer1.0.conv1``).
    kind : str
        ``conv2d`` or ``linear``.
    in_channels, out_channels : int
        Input / output channels (features).
    kernel : tuple of int
        Kernel height and width (1, 1 for linear).
    stride, padding : tuple of int
        Convolution stride and zero padding (rows, columns).
    groups : int
        Convolution groups (``in_channels`` for depthwise).
    in_size : tuple of int
        Input feature-map height and width (positions).
    bias : bool
        Whether the layer has a bias (not counted in the model size; see README).
    """

    name: str
    kind: str
    in_channels: int
    out_channels: int
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1
    in_size: tuple[int, int] = (1, 1)
    bias: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UnsupportedLayerError(
                f"layer {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}"
            )
        for key in ("in_channels", "out_channels", "groups"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"layer {self.name!r}: {key} must be a positive integer, "
                                 f"not {v!r}")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"layer {self.name!r}: groups ({self.groups}) must divide in_channels "
                f"({self.in_channels}) and out_channels ({self.out_channels})"
            )
        oh, ow = self.out_size
        if oh < 1 or ow < 1:
            raise ValueError(f"layer {self.name!r}: the output must be at least 1x1, not "
                             f"{oh}x{ow} (in_size {self.in_size}, kernel {self.kernel})")

    @property
    def out_size(self) -> tuple[int, int]:
        """Output feature-map height and width (positions)."""
        return tuple(
            (i + 2 * p - k) // s + 1
            for i, p, k, s in zip(self.in_size, self.padding, self.kernel, self.stride,
                                  strict=True)
        )

    @property
    def positions(self) -> int:
        """Output positions (height x width)."""
        oh, ow = self.out_size
        return oh * ow

    @property
    def reduction(self) -> int:
        """Products summed per output (in_channels / groups x kernel area)."""
        return self.in_channels // self.groups * self.kernel[0] * self.kernel[1]

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return self.positions * self.out_channels * self.reduction

    @property
    def params(self) -> int:
        """Weights (bias excluded)."""
        return self.out_channels * self.reduction

    @property
    def input_elems(self) -> int:
        """Input activation elements read by the layer."""
        return self.in_channels * self.in_size[0] * self.in_size[1]

    @property
    def output_elems(self) -> int:
        """Output activation elements written by the layer."""
        return self.out_channels * self.positions

    def to_dict(self) -> dict:
        """Plain mapping (lists for pairs), the YAML layer-list format."""
        d = asdict(self)
        for k in ("kernel", "stride", "padding", "in_size"):
            d[k] = list(d[k])
        return d


def layers_from_list(entries: Sequence[Mapping], source: str = "layers") -> tuple[Layer, ...]:
    """Build layers from a YAML-style list of mappings.

    Each entry has ``name``, ``kind`` and, for ``conv2d``: ``in_channels``,
    ``out_channels``, ``kernel``, ``in_size`` and optionally ``stride``, ``padding``,
    ``groups``, ``bias``; for ``linear``: ``in_features``, ``out_features`` (or the conv
    keys) and optionally ``in_size`` (positions, default ``[1, 1]``).

    Parameters
    ----------
    entries : sequence of mapping
        The layer list.
    source : str
        Where the list came from (file or key path), for error messages.

    Returns
    -------
    tuple of Layer
    """
    if not isinstance(entries, Sequence) or isinstance(entries, str) or not entries:
        raise ValueError(f"{source}: must be a non-empty list of layers, not {entries!r}")
    out = []
    allowed = {"name", "kind", "in_channels", "out_channels", "in_features", "out_features",
               "kernel", "stride", "padding", "groups", "in_size", "bias"}
    for i, e in enumerate(entries):
        where = f"{source}[{i}]"
        if not isinstance(e, Mapping):
            raise ValueError(f"{where}: must be a mapping, not {e!r}")
        unknown = sorted(set(e) - allowed)
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}; allowed keys: "
                             + ", ".join(sorted(allowed)))
        name = str(e.get("name", f"layer{i}"))
        kind = e.get("kind")
        if kind not in KINDS:
            raise UnsupportedLayerError(
                f"{where}: layer {name!r} kind must be one of {', '.join(KINDS)}, not {kind!r}"
            )
        try:
            if kind == "linear":
                cin = e.get("in_features", e.get("in_channels"))
                cout = e.get("out_features", e.get("out_channels"))
                if cin is None or cout is None:
                    raise ValueError("a linear layer needs in_features and out_features")
                layer = Layer(name, kind, cin, cout, in_size=_pair(e.get("in_size", 1),
                                                                   "in_size"),
                              bias=bool(e.get("bias", False)))
            else:
                missing = [k for k in ("in_channels", "out_channels", "kernel", "in_size")
                           if k not in e]
                if missing:
                    raise ValueError(f"a conv2d layer needs key {missing[0]!r}")
                layer = Layer(name, kind, e["in_channels"], e["out_channels"],
                              kernel=_pair(e["kernel"], "kernel"),
                              stride=_pair(e.get("stride", 1), "stride"),
                              padding=_pair(e.get("padding", 0), "padding"),
                              groups=e.get("groups", 1),
                              in_size=_pair(e["in_size"], "in_size"),
                              bias=bool(e.get("bias", False)))
        except UnsupportedLayerError:
            raise
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        out.append(layer)
    return tuple(out)


def layers_to_list(layers: Sequence[Layer]) -> list[dict]:
    """The YAML layer-list form of ``layers`` (inverse of :func:`layers_from_list`)."""
    return [layer.to_dict() for layer in layers]


def trace_model(model, example_input) -> tuple[Layer, ...]:
    """Trace a PyTorch module into its multiply-accumulate layers, in execution order.

    Forward hooks on every leaf module record the shapes of one forward pass (under
    ``torch.no_grad``); put the model and input on ``device="meta"`` to skip the
    arithmetic. Functional calls (``F.conv2d``) inside ``forward`` are invisible to hooks:
    write them as modules.

    Parameters
    ----------
    model : torch.nn.Module
        The network (weights are not needed).
    example_input : torch.Tensor or tuple of int
        One input batch, or its shape (a zero tensor on the model's device is made). The
        batch dimension is dropped: figures are per inference.

    Returns
    -------
    tuple of Layer

    Raises
    ------
    UnsupportedLayerError
        For a leaf module that is neither costed nor known to be negligible.
    """
    import torch
    from torch import nn

    if isinstance(example_input, (tuple, list)):
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        example_input = torch.zeros(tuple(example_input), device=device)
    records: list[Layer] = []
    unsupported: list[str] = []
    handles = []

    def hook(name):
        def fn(mod, inputs, output):
            x = inputs[0]
            if isinstance(mod, nn.Conv2d):
                if x.dim() != 4:
                    raise UnsupportedLayerError(
                        f"layer {name!r} (Conv2d) needs a 4-D (N, C, H, W) input, "
                        f"not shape {tuple(x.shape)}")
                pad = mod.padding
                if isinstance(pad, str):
                    if pad != "valid":
                        raise UnsupportedLayerError(
                            f"layer {name!r} (Conv2d): padding must be numeric or 'valid', "
                            f"not {pad!r}")
                    pad = (0, 0)
                if tuple(mod.dilation) != (1, 1):
                    raise UnsupportedLayerError(
                        f"layer {name!r} (Conv2d): dilation must be 1, not {mod.dilation}")
                records.append(Layer(
                    name, "conv2d", mod.in_channels, mod.out_channels,
                    kernel=tuple(mod.kernel_size), stride=tuple(mod.stride),
                    padding=tuple(pad), groups=mod.groups,
                    in_size=(int(x.shape[2]), int(x.shape[3])), bias=mod.bias is not None))
            elif isinstance(mod, nn.Linear):
                # Every leading dimension but the batch is a position (tokens).
                positions = math.prod(int(s) for s in x.shape[1:-1]) if x.dim() > 2 else 1
                records.append(Layer(name, "linear", mod.in_features, mod.out_features,
                                     in_size=(positions, 1), bias=mod.bias is not None))
        return fn

    for name, mod in model.named_modules():
        if any(True for _ in mod.children()):
            continue
        cls = type(mod).__name__
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and type(mod) in (nn.Conv2d, nn.Linear):
            handles.append(mod.register_forward_hook(hook(name)))
        elif cls not in _SKIPPED:
            unsupported.append(f"layer {name!r} ({cls})")
    if unsupported:
        raise UnsupportedLayerError(
            f"{unsupported[0]} is not supported; supported kinds: conv2d (Conv2d), "
            f"linear (Linear); skipped as negligible: {', '.join(_SKIPPED)}"
        )
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for h in handles:
            h.remove()
    if not records:
        raise UnsupportedLayerError(
            f"model {type(model).__name__} has no Conv2d or Linear layer to cost")
    return tuple(records)
