"""Post-training quantization of a sequential network: fake-quant on float and a true
integer path that agree exactly on every integer value.

Arithmetic (per weight layer ``l`` with input bits ``ba_l`` and weight bits ``bw_l``):

- weights: per-output-channel symmetric, ``q_w = round(w / s_w[c])`` in
  ``[-(2^(bw-1) - 1), 2^(bw-1) - 1]`` (``bw = 1``: sign, scale mean|w|), scale from the
  channel's max |w| or, with the clipping search, the clip (0.5 .. 1 x max) that minimizes
  the squared error;
- activations: the input of layer ``l`` is ``q_a * s_a`` with ``s_a`` from a calibrated range
  (max, or a percentile): unsigned ``[0, 2^ba - 1]`` after a ReLU, signed otherwise;
- accumulator: ``acc = sum q_w q_a + q_b`` (bias at scale ``s_a s_w[c]``), saturated to
  int32;
- requantization to the next layer's input grid: ``q = round_mode(acc * M0[c] / 2^F)``
  clamped to that grid (a ReLU is the clamp at 0), where ``M0[c] / 2^F`` is the real
  multiplier ``s_a s_w[c] / s_next`` as a 15-bit dyadic number; the integer path does it
  with :func:`bitsmith.sim.fixed.requantize` and the chosen :class:`Rounding`;
- the last layer's output is its accumulator (integer logits).

The fake-quant path runs in torch (any device): it convolves the dequantized tensors
(``q * s``) in float64 and maps the float output back to the accumulator grid (exact: the
float error is far below half an accumulator LSB), or, where the worst-case accumulator
fits 24 bits on CPU, convolves the integer grids in float32 (exact); then it applies the
same dyadic multiplier and rounding. Max pooling and flattening commute with both.

Multipoint layers (:func:`quantize_multipoint`): the integer path runs one ``b``-bit dot
product per point and the integer scale-and-accumulate ``sum_i m_i[c] acc_i``; the fake path
convolves the folded integer weight ``sum_i m_i[c] q_i``; the integers agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..fixed import Overflow, QFormat, Rounding, overflow, requantize

__all__ = ["ACC_BITS", "MP_MULT_BITS", "Calibration", "QuantizedNetwork",
           "UnsupportedModelError", "calibrate", "dequantize_logits", "fake_forward",
           "integer_forward", "quantize_multipoint", "quantize_network", "quantize_weight",
           "quantized_accuracy", "weight_layers"]

#: Accumulator width (bits, signed).
ACC_BITS = 32
#: Significant bits of the requantization multiplier M0.
_M_BITS = 15


class UnsupportedModelError(ValueError):
    """The network holds a module the quantizer cannot run bit-true."""


@dataclass(frozen=True)
class _Op:
    kind: str           # "weight", "maxpool", "flatten", "relu", "skip"
    name: str
    module: object


def _ops(model) -> list[_Op]:
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise UnsupportedModelError(
            f"the model must be an nn.Sequential of leaf modules (conv2d, linear, relu, "
            f"maxpool2d, flatten, dropout, identity), not {type(model).__name__}")
    ops = []

    def walk(seq, prefix):
        for name, m in seq.named_children():
            full = f"{prefix}{name}"
            if isinstance(m, nn.Sequential):
                walk(m, full + ".")
            elif isinstance(m, nn.Conv2d):
                if m.dilation != (1, 1) or m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise UnsupportedModelError(
                        f"layer {full!r}: conv2d must have dilation 1, zero padding and "
                        f"numeric padding, not dilation={m.dilation}, "
                        f"padding_mode={m.padding_mode!r}, padding={m.padding!r}")
                ops.append(_Op("weight", full, m))
            elif isinstance(m, nn.Linear):
                ops.append(_Op("weight", full, m))
            elif isinstance(m, nn.ReLU):
                ops.append(_Op("relu", full, m))
            elif isinstance(m, nn.MaxPool2d):
                ops.append(_Op("maxpool", full, m))
            elif isinstance(m, nn.Flatten):
                ops.append(_Op("flatten", full, m))
            elif isinstance(m, (nn.Dropout, nn.Identity)):
                ops.append(_Op("skip", full, m))
            else:
                raise UnsupportedModelError(
                    f"layer {full!r} is a {type(m).__name__}, which the bit-true quantizer "
                    f"does not support (conv2d, linear, relu, maxpool2d, flatten, dropout, "
                    f"identity)")
    walk(model, "")
    if not any(o.kind == "weight" for o in ops):
        raise UnsupportedModelError("the model must hold at least one conv2d or linear layer")
    if ops[-1].kind != "weight" and any(o.kind == "relu" for o in
                                        ops[max(i for i, o in enumerate(ops)
                                                if o.kind == "weight"):]):
        raise UnsupportedModelError("the last weight layer must not be followed by a ReLU "
                                    "(its accumulator is the integer output)")
    return ops


def weight_layers(model) -> list[tuple[str, object]]:
    """``(name, module)`` of every conv2d / linear layer in execution order."""
    return [(o.name, o.module) for o in _ops(model) if o.kind == "weight"]


def _qmax_w(bits: int) -> int:
    return 1 if bits == 1 else (1 << (bits - 1)) - 1


def quantize_weight(w: np.ndarray, bits: int, clip_search: bool = False):
    """Per-output-channel symmetric quantization of a weight tensor.

    Parameters
    ----------
    w : numpy.ndarray
        Weights, output channels first (float).
    bits : int
        Weight width, 1 to 16 (bits); 1 is binary (sign times mean |w|).
    clip_search : bool
        Search the clip ratio in 0.5, 0.55, ..., 1.0 of max |w| per channel for the least
        squared error.

    Returns
    -------
    q : numpy.ndarray of int64
        Integer weights, same shape.
    scale : numpy.ndarray of float64
        Per-channel scale (Cout,): the weight is ``q * scale``.
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"weight bits must be between 1 and 16, not {bits}")
    w2 = np.asarray(w, dtype=np.float64).reshape(len(w), -1)
    if bits == 1:
        scale = np.maximum(np.abs(w2).mean(axis=1), 1e-12)
        q = np.where(w2 >= 0, 1, -1).astype(np.int64)
        return q.reshape(np.shape(w)), scale
    qm = _qmax_w(bits)
    amax = np.maximum(np.abs(w2).max(axis=1), 1e-12)
    ratios = np.linspace(0.5, 1.0, 11) if clip_search else np.array([1.0])
    best_err = np.full(len(w2), np.inf)
    best_s = amax / qm
    for r in ratios:
        s = amax * r / qm
        q = np.clip(np.rint(w2 / s[:, None]), -qm, qm)
        err = ((q * s[:, None] - w2) ** 2).sum(axis=1)
        better = err < best_err
        best_err[better], best_s[better] = err[better], s[better]
    q = np.clip(np.rint(w2 / best_s[:, None]), -qm, qm).astype(np.int64)
    return q.reshape(np.shape(w)), best_s


@dataclass
class Calibration:
    """Activation statistics of a float network on calibration data.

    Attributes
    ----------
    names : tuple of str
        Weight layers in order.
    ranges : numpy.ndarray (L,)
        Calibrated range of each weight layer's input (max |x| or its percentile).
    signed : tuple of bool
        Whether each layer's input can be negative (no ReLU before it).
    relu_after : tuple of bool
        Whether each layer's output passes a ReLU before the next weight layer.
    """

    model: object = field(repr=False)
    names: tuple[str, ...]
    ranges: np.ndarray
    signed: tuple[bool, ...]
    relu_after: tuple[bool, ...]
    clip_search: bool = False
    _wcache: dict = field(default_factory=dict, repr=False)

    def weight(self, index: int, bits: int):
        """Cached :func:`quantize_weight` of weight layer ``index`` at ``bits``."""
        key = (index, bits)
        if key not in self._wcache:
            mod = weight_layers(self.model)[index][1]
            self._wcache[key] = quantize_weight(mod.weight.detach().cpu().numpy(), bits,
                                                self.clip_search)
        return self._wcache[key]


def calibrate(model, x_calib: np.ndarray, percentile: float = 100.0,
              clip_search: bool = False) -> Calibration:
    """Record each weight layer's input range on calibration images.

    Parameters
    ----------
    model : torch.nn.Sequential
    x_calib : numpy.ndarray
        Calibration inputs (float32).
    percentile : float
        Range = this percentile of |x| (100: the maximum).
    clip_search : bool
        Weight clipping search (see :func:`quantize_weight`).
    """
    import torch

    ops = _ops(model)
    widx = [i for i, o in enumerate(ops) if o.kind == "weight"]
    relu_after = []
    for j, i in enumerate(widx):
        end = widx[j + 1] if j + 1 < len(widx) else len(ops)
        relu_after.append(any(ops[k].kind == "relu" for k in range(i + 1, end)))
    dev = next(model.parameters()).device
    ranges, signed = [], []
    h = torch.as_tensor(x_calib, device=dev)
    model.eval()
    with torch.no_grad():
        for o in ops:
            if o.kind == "weight":
                a = h.detach().abs().double().flatten().cpu().numpy()
                r = float(np.max(a)) if percentile >= 100 else float(np.percentile(a, percentile))
                ranges.append(max(r, 1e-8))
                signed.append(bool((h < 0).any().item()))
            h = o.module(h)
    names = tuple(ops[i].name for i in widx)
    # A layer fed by a ReLU sees only non-negative inputs; its grid is unsigned.
    for j in range(1, len(widx)):
        if relu_after[j - 1]:
            signed[j] = False
    return Calibration(model, names, np.asarray(ranges), tuple(signed), tuple(relu_after),
                       clip_search)


@dataclass(frozen=True)
class QLayer:
    """One quantized weight layer: integer weights, scales and the requantizer."""

    name: str
    kind: str                 # "conv2d" or "linear"
    q_w: np.ndarray           # int64, (Cout, Cin/g, kh, kw) or (Cout, Cin)
    s_w: np.ndarray           # float64 (Cout,)
    q_b: np.ndarray           # int64 (Cout,)
    s_in: float               # input scale
    in_fmt: QFormat           # input grid (integer QFormat, signed or not)
    m0: np.ndarray | None     # int64 (Cout,) requant multiplier; None for the last layer
    m_frac: int               # F: the multiplier is m0 * 2**-F
    out_fmt: QFormat | None   # output grid (next layer's input); None for the last layer
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1
    #: Multipoint layers only: the b-bit points (P, *q_w.shape) and their integer
    #: multipliers (P, Cout); ``q_w = sum_i m_points[i, c] * q_points[i, c]`` is the same
    #: weight folded (what the fake path convolves).
    q_points: np.ndarray | None = None
    m_points: np.ndarray | None = None


@dataclass(frozen=True)
class QuantizedNetwork:
    """A network at one bit configuration: quantized layers and the ops between them."""

    layers: tuple[QLayer, ...]
    ops: tuple[_Op, ...] = field(repr=False)
    w_bits: tuple[int, ...]
    a_bits: tuple[int, ...]
    rounding: Rounding


def _act_fmt(bits: int, signed: bool) -> QFormat:
    return QFormat(bits, 0, signed=signed) if signed else QFormat(bits, 0, signed=False)


def _act_scale(rng: float, bits: int, signed: bool) -> float:
    levels = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    return rng / max(levels, 1)


def quantize_network(calib: Calibration, w_bits: Sequence[int], a_bits: Sequence[int],
                     rounding: Rounding = Rounding.ROUND_HALF_EVEN) -> QuantizedNetwork:
    """Quantize the calibrated network at per-layer weight and input-activation widths.

    Parameters
    ----------
    calib : Calibration
    w_bits : sequence of int
        Weight width per weight layer, 1..16 (bits).
    a_bits : sequence of int
        Input-activation width per weight layer, 2..16 (bits); layer ``l``'s output is
        requantized to layer ``l+1``'s input width.
    rounding : Rounding
        Rounding of every requantization.
    """
    n = len(calib.names)
    w_bits, a_bits = tuple(int(b) for b in w_bits), tuple(int(b) for b in a_bits)
    if len(w_bits) != n or len(a_bits) != n:
        raise ValueError(f"w_bits and a_bits must give one width per weight layer ({n}), "
                         f"not {len(w_bits)} and {len(a_bits)}")
    for what, bits, lo in (("w_bits", w_bits, 1), ("a_bits", a_bits, 2)):
        bad = [b for b in bits if not lo <= b <= 16]
        if bad:
            raise ValueError(f"{what} must lie between {lo} and 16 bits, not {bad[0]}")
    weights = [calib.weight(j, w_bits[j]) + (None, None) for j in range(n)]
    return _build(calib, weights, w_bits, a_bits, rounding)


def _build(calib: Calibration, weights, w_bits, a_bits, rounding) -> QuantizedNetwork:
    """The network from per-layer ``(q_w, s_w, q_points, m_points)``."""
    n = len(calib.names)
    wl = weight_layers(calib.model)
    scales = [_act_scale(calib.ranges[j], a_bits[j], calib.signed[j]) for j in range(n)]
    layers = []
    for j, (name, mod) in enumerate(wl):
        q_w, s_w, q_points, m_points = weights[j]
        s_in = scales[j]
        b = (mod.bias.detach().cpu().double().numpy() if mod.bias is not None
             else np.zeros(len(s_w)))
        q_b = np.clip(np.rint(b / (s_in * s_w)), -(2 ** 31), 2 ** 31 - 1).astype(np.int64)
        m0, frac, out_fmt = None, 0, None
        if j + 1 < n:
            m = s_in * s_w / scales[j + 1]
            e = math.floor(math.log2(max(float(m.max()), 1e-300)))
            frac = _M_BITS - 1 - e
            m0 = np.rint(np.ldexp(m, frac)).astype(np.int64)
            out_fmt = _act_fmt(a_bits[j + 1], calib.signed[j + 1])
        conv = mod.__class__.__name__ == "Conv2d"
        layers.append(QLayer(
            name=name, kind="conv2d" if conv else "linear", q_w=q_w, s_w=s_w, q_b=q_b,
            s_in=s_in, in_fmt=_act_fmt(a_bits[j], calib.signed[j]), m0=m0, m_frac=frac,
            out_fmt=out_fmt,
            stride=tuple(mod.stride) if conv else (1, 1),
            padding=tuple(mod.padding) if conv else (0, 0),
            groups=mod.groups if conv else 1, q_points=q_points, m_points=m_points))
    return QuantizedNetwork(tuple(layers), tuple(_ops(calib.model)), tuple(w_bits),
                            tuple(a_bits), rounding)


#: Width of the multipoint scale-and-accumulate multipliers (signed bits).
MP_MULT_BITS = 12


def quantize_multipoint(calib: Calibration, layers, a_bits: Sequence[int],
                        rounding: Rounding = Rounding.ROUND_HALF_EVEN,
                        mult_bits: int = MP_MULT_BITS) -> QuantizedNetwork:
    """Quantize a multipoint network (``calib`` of the network whose weights are the
    multipoint sums) for a bit-true multipoint datapath.

    Every point keeps its ``b``-bit integers; its real scale ``alpha_i[c]`` becomes an
    integer multiplier ``m_i[c] = round(alpha_i[c] / s_w[c])`` on the channel's scale
    ``s_w[c] = max_i |alpha_i[c]| / (2^(mult_bits-1) - 1)``. The integer path computes one
    ``b``-bit dot product per point and the scale-and-accumulate ``sum_i m_i acc_i`` (the
    int32 accumulator saturates after it); the fake path convolves the folded integer weight
    ``sum_i m_i q_i``; both then share the dyadic requantization, and they agree on every
    integer value.

    Parameters
    ----------
    calib : Calibration
    layers : sequence of MultipointLayer
        One per weight layer (from :func:`multipoint_allocate`).
    a_bits : sequence of int
        Input-activation width per layer (bits).
    rounding : Rounding
    mult_bits : int
        Signed width of the point multipliers (2 to 15 bits).
    """
    n = len(calib.names)
    if len(layers) != n or len(a_bits) != n:
        raise ValueError(f"layers and a_bits must give one entry per weight layer ({n}), "
                         f"not {len(layers)} and {len(a_bits)}")
    if not 2 <= mult_bits <= 15:
        raise ValueError(f"mult_bits must lie between 2 and 15, not {mult_bits}")
    mmax = (1 << (mult_bits - 1)) - 1
    weights = []
    for la in layers:
        amax = np.abs(la.alphas).max(axis=1)
        s_w = np.where(amax > 0, amax, 1.0) / mmax
        m = np.rint(la.alphas / s_w[:, None]).astype(np.int64).T  # (P, Cout)
        shape = m.shape + (1,) * (la.qs.ndim - 2)
        q_w = (m.reshape(shape) * la.qs).sum(axis=0)
        weights.append((q_w, s_w, la.qs, m))
    return _build(calib, weights, tuple(int(la.bits) for la in layers),
                  tuple(int(b) for b in a_bits), rounding)


def quantize_input(qnet: QuantizedNetwork, x: np.ndarray) -> np.ndarray:
    """The network input on the first layer's grid (int64), shared by both paths."""
    la = qnet.layers[0]
    y = np.asarray(x, dtype=np.float64) / la.s_in
    q = np.rint(y)  # inputs round to nearest even, independent of the requant rounding
    return np.clip(q, la.in_fmt.raw_min, la.in_fmt.raw_max).astype(np.int64)


# -- the integer path (numpy int64, bitsmith.sim.fixed) --------------------------------------

def _im2col(x: np.ndarray, kh: int, kw: int, stride, padding) -> np.ndarray:
    n, c, h, w = x.shape
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - kh) // stride[0] + 1
    ow = (w + 2 * pw - kw) // stride[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride[0] * oh:stride[0],
                                  j:j + stride[1] * ow:stride[1]]
    return cols, oh, ow


def _dot(q_w: np.ndarray, la: QLayer, q: np.ndarray) -> np.ndarray:
    if la.kind == "linear":
        return q.reshape(len(q), -1) @ q_w.T
    cout, cg, kh, kw = q_w.shape
    cols, oh, ow = _im2col(q, kh, kw, la.stride, la.padding)
    n = len(q)
    g = la.groups
    cols = cols.reshape(n, g, cg * kh * kw, oh * ow)
    wg = q_w.reshape(g, cout // g, cg * kh * kw)
    return np.einsum("gok,ngkp->ngop", wg, cols).reshape(n, cout, oh, ow)


def _int_layer(la: QLayer, q: np.ndarray) -> np.ndarray:
    if la.q_points is None:
        acc = _dot(la.q_w, la, q)
    else:
        # multipoint: one b-bit dot product per point, then scale-and-accumulate
        acc = 0
        for qp, mp in zip(la.q_points, la.m_points, strict=True):
            part = _dot(qp, la, q)
            acc = acc + part * mp.reshape((1, -1) + (1,) * (part.ndim - 2))
    shape = (1, -1) + (1,) * (acc.ndim - 2)
    acc = acc + la.q_b.reshape(shape)
    return overflow(acc, QFormat(ACC_BITS, 0), Overflow.SATURATE)


def _int_requant(la: QLayer, acc: np.ndarray, rounding: Rounding) -> np.ndarray:
    shape = (1, -1) + (1,) * (acc.ndim - 2)
    prod = acc * la.m0.reshape(shape)  # |acc| < 2^31, m0 < 2^15: exact in int64
    src = QFormat(62 - la.m_frac, la.m_frac)
    return requantize(prod, src, la.out_fmt, rounding, Overflow.SATURATE)


def _pool_int(op: _Op, q: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    m = op.module
    t = torch.as_tensor(q.astype(np.float64))  # integers below 2^53: exact in float64
    out = F.max_pool2d(t, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
    return out.numpy().astype(np.int64)


def integer_forward(qnet: QuantizedNetwork, x: np.ndarray, return_all: bool = False):
    """Run the network in integer arithmetic (numpy int64 via ``bitsmith.sim.fixed``).

    Parameters
    ----------
    qnet : QuantizedNetwork
    x : numpy.ndarray
        Float inputs (quantized to the first layer's grid by :func:`quantize_input`).
    return_all : bool
        Also return every layer's integer output (requantized activations, then the
        final accumulator).

    Returns
    -------
    numpy.ndarray of int64
        The last layer's accumulators (integer logits), (n, classes); with ``return_all``
        a list of every weight layer's integer output.
    """
    q = quantize_input(qnet, x)
    outs = []
    j = 0
    for op in qnet.ops:
        if op.kind == "weight":
            la = qnet.layers[j]
            acc = _int_layer(la, q)
            q = acc if la.m0 is None else _int_requant(la, acc, qnet.rounding)
            outs.append(q)
            j += 1
        elif op.kind == "maxpool":
            q = _pool_int(op, q)
        elif op.kind == "flatten":
            q = q.reshape(len(q), -1)
    return outs if return_all else q


# -- the fake-quant path (torch float64, any device) -----------------------------------------

def _round_t(y, rounding: Rounding):
    import torch

    if rounding is Rounding.TRUNCATE:
        return torch.floor(y)
    if rounding is Rounding.ROUND_TO_ZERO:
        return torch.trunc(y)
    if rounding is Rounding.ROUND_HALF_EVEN:
        return torch.round(y)
    r = torch.floor(y)
    return r + ((y - r) >= 0.5).to(y.dtype)


class _FakeCache:
    """Per (network, device) tensors of the fake path, built once.

    A layer whose worst-case accumulator ``K * max|q_w| * max|q_a| + max|q_b|`` stays below
    2^24 is convolved on the integer grids in float32 on CPU (every partial sum is an exact
    float32 integer, several times faster than float64); every other layer, and every layer
    on a GPU (where cuDNN may pick transform-based algorithms or TF32), convolves the
    dequantized tensors in float64. Either way the result is rounded to the accumulator grid.
    """

    def __init__(self, qnet: QuantizedNetwork, dev):
        import torch

        self.mode, self.w, self.b, self.s_acc, self.m0 = [], [], [], [], []
        for la in qnet.layers:
            shape = (-1,) + (1,) * (la.q_w.ndim - 1)
            k = int(np.prod(la.q_w.shape[1:]))
            qa = max(abs(la.in_fmt.raw_min), abs(la.in_fmt.raw_max))
            bound = k * int(np.abs(la.q_w).max(initial=0)) * qa + int(np.abs(la.q_b).max())
            fast = dev.type == "cpu" and bound < 2 ** 24
            s_acc = la.s_in * la.s_w
            self.mode.append("int32f" if fast else "deq64")
            if fast:
                self.w.append(torch.as_tensor(la.q_w.astype(np.float32), device=dev))
                self.b.append(torch.as_tensor(la.q_b.astype(np.float32), device=dev))
            else:
                self.w.append(torch.as_tensor(la.q_w * la.s_w.reshape(shape), device=dev))
                self.b.append(torch.as_tensor(la.q_b * s_acc, device=dev))
            self.s_acc.append(torch.as_tensor(s_acc, device=dev))
            self.m0.append(None if la.m0 is None else
                           torch.as_tensor(la.m0.astype(np.float64), device=dev))


def fake_forward(qnet: QuantizedNetwork, x: np.ndarray, device=None, return_all: bool = False,
                 cache: _FakeCache | None = None):
    """Run the network as fake-quant in torch (dequantized weights and activations).

    Same arguments and integer results as :func:`integer_forward`; ``device`` is a torch
    device (default: CPU).
    """
    import torch
    import torch.nn.functional as F

    dev = torch.device("cpu") if device is None else torch.device(device)
    c = cache if cache is not None else _FakeCache(qnet, dev)
    # h holds the current activation on its integer grid (float64 integers)
    h = torch.as_tensor(quantize_input(qnet, x).astype(np.float64), device=dev)
    outs = []
    j = 0
    amin, amax = float(-(2 ** (ACC_BITS - 1))), float(2 ** (ACC_BITS - 1) - 1)
    with torch.no_grad():
        for op in qnet.ops:
            if op.kind == "weight":
                la = qnet.layers[j]
                shape = (1, -1) if la.kind == "linear" else (1, -1, 1, 1)
                if c.mode[j] == "int32f":
                    inp = h.float()
                else:
                    inp = h * la.s_in  # the dequantized activation
                if la.kind == "linear":
                    y = F.linear(inp, c.w[j], c.b[j])
                else:
                    y = F.conv2d(inp, c.w[j], c.b[j], la.stride, la.padding, 1, la.groups)
                if c.mode[j] == "int32f":
                    acc = torch.clamp(y.double(), amin, amax)
                else:
                    acc = torch.clamp(torch.round(y / c.s_acc[j].reshape(shape)), amin, amax)
                if la.m0 is None:
                    h = acc
                else:
                    v = torch.ldexp(acc * c.m0[j].reshape(shape),
                                    torch.tensor(-la.m_frac, device=dev, dtype=torch.float64))
                    h = torch.clamp(_round_t(v, qnet.rounding), float(la.out_fmt.raw_min),
                                    float(la.out_fmt.raw_max))
                outs.append(h)
                j += 1
            elif op.kind == "maxpool":
                m = op.module
                h = F.max_pool2d(h, m.kernel_size, m.stride, m.padding, m.dilation,
                                 m.ceil_mode)
            elif op.kind == "flatten":
                h = h.reshape(len(h), -1)
    if return_all:
        return [o.cpu().numpy().astype(np.int64) for o in outs]
    return outs[-1].cpu().numpy().astype(np.int64)


def quantized_accuracy(qnet: QuantizedNetwork, x: np.ndarray, y: np.ndarray,
                       device=None) -> float:
    """Top-1 accuracy (fraction) of the fake-quant network on ``(x, y)``."""
    logits = dequantize_logits(qnet, fake_forward(qnet, x, device))
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


def dequantize_logits(qnet: QuantizedNetwork, acc: np.ndarray) -> np.ndarray:
    """Real logits of the last layer's accumulators: ``acc * s_in * s_w[c]`` (each output
    channel has its own weight scale, so ranking needs the scaled values)."""
    la = qnet.layers[-1]
    return np.asarray(acc, dtype=np.float64) * (la.s_in * la.s_w)[None, :]
