"""Layer descriptions of a network: traced from a PyTorch module or read from a YAML list.

Only multiply-accumulate operations are costed: convolutions (``conv1d``, ``conv2d``),
products with a weight (``linear``) and products of two activations (``matmul``:
attention scores, ``scaled_dot_product_attention``). Element-wise, normalization and
pooling work is neglected (under 1% of the MACs of the zoo models). The tracer sees the
functional calls (``F.conv2d``, ``F.linear``, ``@``, ``bmm``, attention) wherever they are
made and checks its total against ``torch.utils.flop_counter.FlopCounterMode``, so a
network is never silently under-counted.
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
KINDS = ("conv1d", "conv2d", "linear", "matmul")


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
    plain vector, ``(tokens, 1)`` for a sequence). A ``conv1d`` is a ``(k, 1)`` kernel on
    an ``(L, 1)`` input. A ``matmul`` multiplies two activations: ``groups`` independent
    ``(M x K) @ (K x N)`` products (batch x heads) with ``in_size = (M, 1)``,
    ``in_channels = groups * K``, ``out_channels = groups * N``; its second operand
    takes the weight path of the array but is not a parameter of the model.

    Parameters
    ----------
    name : str
        Module path (``layer1.0.conv1``).
    kind : str
        One of :data:`KINDS`.
    in_channels, out_channels : int
        Input / output channels (features).
    kernel : tuple of int
        Kernel height and width (1, 1 for linear).
    stride, padding, dilation : tuple of int
        Convolution stride, zero padding per side and dilation (rows, columns).
    groups : int
        Convolution groups (``in_channels`` for depthwise).
    in_size : tuple of int
        Input feature-map height and width (positions).
    bias : bool
        Whether the layer has a bias (not counted in the model size; see README).
    out_hw : tuple of int, optional
        Output height and width when the padding is asymmetric (``padding='same'`` with
        an even kernel); default from the other fields.
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
    dilation: tuple[int, int] = (1, 1)
    out_hw: tuple[int, int] | None = None

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
        if self.out_hw is not None:
            return tuple(self.out_hw)
        return tuple(
            (i + 2 * p - d * (k - 1) - 1) // s + 1
            for i, p, k, s, d in zip(self.in_size, self.padding, self.kernel, self.stride,
                                     self.dilation, strict=True)
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
    def weight_elems(self) -> int:
        """Elements of the second operand (the weights; an activation for ``matmul``)."""
        return self.out_channels * self.reduction

    @property
    def params(self) -> int:
        """Weights (bias excluded; 0 for ``matmul``, whose operands are activations)."""
        return 0 if self.kind == "matmul" else self.weight_elems

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
        for k in ("kernel", "stride", "padding", "in_size", "dilation"):
            d[k] = list(d[k])
        if d["dilation"] == [1, 1]:
            del d["dilation"]
        if d["out_hw"] is None:
            del d["out_hw"]
        else:
            d["out_hw"] = list(d["out_hw"])
        return d


def layers_from_list(entries: Sequence[Mapping], source: str = "layers") -> tuple[Layer, ...]:
    """Build layers from a YAML-style list of mappings.

    Each entry has ``name``, ``kind`` and, for ``conv2d`` and ``conv1d``:
    ``in_channels``, ``out_channels``, ``kernel``, ``in_size`` (``[L, 1]`` and ``[k, 1]``
    for ``conv1d``) and optionally ``stride``, ``padding``, ``dilation``, ``groups``,
    ``bias``, ``out_hw``; for ``linear`` and ``matmul``: ``in_features``, ``out_features``
    (or the conv keys) and optionally ``in_size`` (positions, default ``[1, 1]``) and
    ``groups`` (``matmul``: independent products, e.g. heads).

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
               "kernel", "stride", "padding", "groups", "in_size", "bias", "dilation",
               "out_hw"}
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
            if kind in ("linear", "matmul"):
                cin = e.get("in_features", e.get("in_channels"))
                cout = e.get("out_features", e.get("out_channels"))
                if cin is None or cout is None:
                    raise ValueError(f"a {kind} layer needs in_features and out_features")
                layer = Layer(name, kind, cin, cout, in_size=_pair(e.get("in_size", 1),
                                                                   "in_size"),
                              groups=e.get("groups", 1), bias=bool(e.get("bias", False)))
            else:
                missing = [k for k in ("in_channels", "out_channels", "kernel", "in_size")
                           if k not in e]
                if missing:
                    raise ValueError(f"a {kind} layer needs key {missing[0]!r}")
                layer = Layer(name, kind, e["in_channels"], e["out_channels"],
                              kernel=_pair(e["kernel"], "kernel"),
                              stride=_pair(e.get("stride", 1), "stride"),
                              padding=_pair(e.get("padding", 0), "padding"),
                              groups=e.get("groups", 1),
                              in_size=_pair(e["in_size"], "in_size"),
                              bias=bool(e.get("bias", False)),
                              dilation=_pair(e.get("dilation", 1), "dilation"),
                              out_hw=(None if e.get("out_hw") is None
                                      else _pair(e["out_hw"], "out_hw")))
        except UnsupportedLayerError:
            raise
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        out.append(layer)
    return tuple(out)


def layers_to_list(layers: Sequence[Layer]) -> list[dict]:
    """The YAML layer-list form of ``layers`` (inverse of :func:`layers_from_list`)."""
    return [layer.to_dict() for layer in layers]



def _conv_layer(name, kind, x, w, out, stride, padding, dilation, groups, bias, batch):
    if kind == "conv1d":
        if x.dim() != 3:
            raise UnsupportedLayerError(f"layer {name!r} (conv1d) needs a batched (N, C, L) "
                                        f"input, not shape {tuple(x.shape)}")
        k, i, o = (int(w.shape[2]), 1), (int(x.shape[2]), 1), (int(out.shape[2]), 1)
        one = lambda v: (int(v[0]) if isinstance(v, (tuple, list)) else int(v), 1)  # noqa: E731
    else:
        if x.dim() != 4:
            raise UnsupportedLayerError(f"layer {name!r} (conv2d) needs a batched (N, C, H, W)"
                                        f" input, not shape {tuple(x.shape)}")
        k = (int(w.shape[2]), int(w.shape[3]))
        i, o = (int(x.shape[2]), int(x.shape[3])), (int(out.shape[2]), int(out.shape[3]))
        one = lambda v: _pair(tuple(int(t) for t in v) if isinstance(v, (tuple, list))  # noqa: E731
                              else int(v), "")
    if int(x.shape[0]) != batch:
        raise UnsupportedLayerError(f"layer {name!r} ({kind}): input batch {x.shape[0]} "
                                    f"differs from the example input's {batch}")
    st, dl = one(stride), one(dilation)
    if isinstance(padding, str):
        # 'valid' = 0; 'same' pads d*(k-1) in total; an odd total is asymmetric, which
        # out_hw records.
        pd = (0, 0) if padding == "valid" else tuple(
            d * (kk - 1) // 2 if kk > 1 else 0 for d, kk in zip(dl, k, strict=True))
    else:
        pd = one(padding)
    if kind == "conv1d":
        pd = (pd[0], 0)
    layer = Layer(name, kind, int(x.shape[1]), int(w.shape[0]), kernel=k, stride=st,
                  padding=pd, groups=int(groups), in_size=i, bias=bias, dilation=dl)
    if layer.out_size != o:
        layer = Layer(name, kind, int(x.shape[1]), int(w.shape[0]), kernel=k, stride=st,
                      padding=pd, groups=int(groups), in_size=i, bias=bias, dilation=dl,
                      out_hw=o)
    return layer


def _per_inference(name, total, batch):
    if total % batch:
        raise UnsupportedLayerError(f"layer {name!r}: {total} leading elements do not "
                                    f"divide into the example batch of {batch}")
    return total // batch


def _matmul_layer(name, a, b, batch, weight, bias=False):
    """``a @ b`` (torch.matmul broadcasting); ``weight``: which operand is a parameter."""

    if a.dim() == 1 or b.dim() == 1:
        raise UnsupportedLayerError(f"layer {name!r}: matrix-vector products are not "
                                    f"supported (shapes {tuple(a.shape)}, {tuple(b.shape)})")
    if weight == "b" and b.dim() == 2:
        # x @ W: a linear layer over every leading position of x.
        pos = _per_inference(name, math.prod(int(s) for s in a.shape[:-1]), batch)
        return Layer(name, "linear", int(a.shape[-1]), int(b.shape[-1]), in_size=(pos, 1),
                     bias=bias)
    if weight == "a" and a.dim() == 2:
        # W @ x: out[..., M, n] = sum_k W[M, k] x[..., k, n]; positions are the n columns.
        pos = _per_inference(name, math.prod(int(s) for s in b.shape[:-2]) * int(b.shape[-1]),
                             batch)
        return Layer(name, "linear", int(a.shape[-1]), int(a.shape[0]), in_size=(pos, 1),
                     bias=bias)
    m, k, n = int(a.shape[-2]), int(a.shape[-1]), int(b.shape[-1])
    import torch

    lead = math.prod(torch.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    if lead % batch == 0:
        g = lead // batch
    else:
        g, m = lead, _per_inference(name, m * lead, batch * lead)
    return Layer(name, "matmul", g * k, g * n, groups=g, in_size=(m, 1), bias=bias)


def trace_model(model, example_input, check: bool = True) -> tuple[Layer, ...]:
    """Trace a PyTorch module into its multiply-accumulate layers, in execution order.

    A ``torch.overrides.TorchFunctionMode`` records every convolution and product of one
    forward pass (under ``torch.no_grad``), whether a module or a functional call
    (``F.conv1d``, ``F.conv2d``, ``F.linear``, ``@``, ``torch.matmul``, ``mm``, ``bmm``,
    ``addmm``, ``baddbmm``, ``scaled_dot_product_attention``) makes it; put the model and
    input on ``device="meta"`` to skip the arithmetic. A call made by a module's own
    ``forward`` is named by the module's path (``layer1.0.conv1``), one made inside a
    parent's ``forward`` by ``path.op`` (``attn.matmul``); a repeated name (a module
    called twice) gets ``:2``, ``:3``... Subclasses of ``nn.Conv2d`` or ``nn.Linear``
    trace like their base, ``padding='same'`` and dilation are kept.

    Parameters
    ----------
    model : torch.nn.Module
        The network (weights are not needed).
    example_input : torch.Tensor or tuple of int
        One input batch, or its shape (a zero tensor on the model's device is made). The
        first dimension is the batch: figures are per inference.
    check : bool
        Cross-check the total against ``FlopCounterMode`` (MACs = FLOPs / 2).

    Returns
    -------
    tuple of Layer

    Raises
    ------
    UnsupportedLayerError
        For a product the cost model cannot describe (transposed or 3-D convolution,
        einsum, ...), or when ``FlopCounterMode`` counts MACs the trace missed; the
        message names the operations.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.overrides import TorchFunctionMode
    from torch.utils.flop_counter import FlopCounterMode

    if isinstance(example_input, (tuple, list)):
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        example_input = torch.zeros(tuple(example_input), device=device)
    batch = int(example_input.shape[0]) if example_input.dim() else 1
    params = {id(p) for p in model.parameters()} | {id(b) for b in model.buffers()}
    paths = {id(m): n for n, m in model.named_modules()}
    stack: list[str] = []
    records: list[Layer] = []
    rejected: list[str] = []
    seen: dict[str, int] = {}
    attn_macs = [0]                # MACs of scaled_dot_product_attention calls
    T = torch.Tensor

    linear_fns = {F.linear}
    conv_fns = {F.conv1d: "conv1d", F.conv2d: "conv2d"}
    mm_fns = {torch.matmul, T.matmul, T.__matmul__, torch.mm, T.mm, torch.bmm, T.bmm}
    add_mm_fns = {torch.addmm, T.addmm, torch.baddbmm, T.baddbmm}
    refused = {F.conv3d: "conv3d", F.conv_transpose1d: "conv_transpose1d",
               F.conv_transpose2d: "conv_transpose2d", F.conv_transpose3d: "conv_transpose3d",
               torch.einsum: "einsum", torch.tensordot: "tensordot", F.bilinear: "bilinear",
               torch.addbmm: "addbmm", T.addbmm: "addbmm", torch.chain_matmul: "chain_matmul",
               torch.linalg.multi_dot: "multi_dot", torch.mv: "mv", T.mv: "mv",
               torch.addmv: "addmv", T.addmv: "addmv", torch.dot: "dot", T.dot: "dot",
               torch.vdot: "vdot", torch.inner: "inner", torch.kron: "kron"}

    def is_w(t):
        return isinstance(t, torch.Tensor) and id(t) in params

    def where(op, direct):
        path = stack[-1] if stack else ""
        if direct:
            return path or op
        return f"{path}.{op}" if path else op

    def unique(name):
        k = seen.get(name, 0) + 1
        seen[name] = k
        return name if k == 1 else f"{name}:{k}"

    class _Tracer(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in refused:
                rejected.append(f"{refused[func]} in {where(refused[func], False)!r}")
                return func(*args, **kwargs)
            if func is F.multi_head_attention_forward:
                out = func(*args, **kwargs)
                self.record_mha(args, kwargs)
                return out
            if func in conv_fns or func in linear_fns or func in mm_fns or func in add_mm_fns \
                    or func is F.scaled_dot_product_attention:
                out = func(*args, **kwargs)
                self.record(func, args, kwargs, out)
                return out
            # Anything else runs untraced; products inside Python-level functions
            # (F.multi_head_attention_forward) are caught by the FlopCounterMode check.
            return func(*args, **kwargs)

        def record_mha(self, args, kwargs):
            # nn.MultiheadAttention: (L, N, E) inputs (the module transposes batch_first);
            # q/k/v projections, per-head scores and weighted sums, output projection.
            import inspect

            v = inspect.signature(F.multi_head_attention_forward).bind(*args, **kwargs)
            v.apply_defaults()
            a = v.arguments
            q, k, val, heads = a["query"], a["key"], a["value"], int(a["num_heads"])
            if q.dim() != 3 or a["static_k"] is not None or a["static_v"] is not None:
                rejected.append(f"multi_head_attention_forward in "
                                f"{where('mha', False)!r} (unbatched or static keys)")
                return
            n = int(q.shape[1])
            if n != batch:
                raise UnsupportedLayerError(
                    f"{where('mha', True)!r}: batch {n} differs from the example input's "
                    f"{batch}")
            e = int(q.shape[2])
            s_len = int(k.shape[0]) + (a["bias_k"] is not None) + bool(a["add_zero_attn"])
            hd = e // heads
            base = where("mha", True)
            has_b = a["in_proj_bias"] is not None
            for nm, x in (("q_proj", q), ("k_proj", k), ("v_proj", val)):
                records.append(Layer(unique(f"{base}.{nm}"), "linear", int(x.shape[2]), e,
                                     in_size=(int(x.shape[0]), 1), bias=has_b))
            L = int(q.shape[0])
            records.append(Layer(unique(f"{base}.qk"), "matmul", heads * hd, heads * s_len,
                                 groups=heads, in_size=(L, 1)))
            records.append(Layer(unique(f"{base}.av"), "matmul", heads * s_len, heads * hd,
                                 groups=heads, in_size=(L, 1)))
            if not a["need_weights"]:      # this path runs scaled_dot_product_attention
                attn_macs[0] += records[-1].macs + records[-2].macs
            records.append(Layer(unique(f"{base}.out_proj"), "linear", e, e, in_size=(L, 1),
                                 bias=a["out_proj_bias"] is not None))

        def record(self, func, args, kwargs, out):
            mod = stack_mods[-1] if stack_mods else None
            if func in conv_fns:
                kind = conv_fns[func]
                direct = isinstance(mod, (nn.Conv1d, nn.Conv2d))
                sig = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
                dflt = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}
                v = {**dflt, **dict(zip(sig, args, strict=False)), **kwargs}
                records.append(_conv_layer(
                    unique(where(kind, direct)), kind, v["input"], v["weight"], out,
                    v["stride"], v["padding"], v["dilation"], v["groups"],
                    v["bias"] is not None, batch))
            elif func in linear_fns:
                x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
                b = args[2] if len(args) > 2 else kwargs.get("bias")
                direct = isinstance(mod, nn.Linear)
                records.append(_matmul_layer(unique(where("linear", direct)), x, w.t(), batch,
                                             "b", bias=b is not None))
            elif func is F.scaled_dot_product_attention:
                q, k, v = (list(args) + [kwargs.get(n) for n in ("query", "key", "value")])[:3]
                base = where("scaled_dot_product_attention", False)
                records.append(_matmul_layer(unique(base + ".qk"), q, k.transpose(-2, -1),
                                             batch, None))
                records.append(_matmul_layer(unique(base + ".av"),
                                             q[..., :1].expand(*q.shape[:-1], k.shape[-2]),
                                             v, batch, None))
                attn_macs[0] += records[-1].macs + records[-2].macs
            else:
                a, b = (args[1], args[2]) if func in add_mm_fns else (args[0], args[1])
                if func is T.__rmatmul__:
                    a, b = b, a
                weight = "b" if is_w(b) else ("a" if is_w(a) else None)
                op = getattr(func, "__name__", "matmul").strip("_")
                records.append(_matmul_layer(unique(where(op, False)), a, b, batch, weight,
                                             bias=func in add_mm_fns))

    mm_fns.add(T.__rmatmul__)
    stack_mods: list = []

    def pre(mod, inputs):
        if isinstance(mod, nn.RNNBase):
            # Recurrent kernels run below both the tracer and FlopCounterMode (LSTM).
            rejected.append(f"{type(mod).__name__} in {paths.get(id(mod), '?')!r}")
        if id(mod) in paths:
            stack.append(paths[id(mod)])
            stack_mods.append(mod)

    def post(mod, inputs, output):
        if id(mod) in paths and stack and stack[-1] == paths[id(mod)]:
            stack.pop()
            stack_mods.pop()

    h1 = nn.modules.module.register_module_forward_pre_hook(pre)
    h2 = nn.modules.module.register_module_forward_hook(post)
    counter = FlopCounterMode(display=False) if check else None
    try:
        with torch.no_grad():
            if counter is not None:
                with counter, _Tracer():
                    model(example_input)
            else:
                with _Tracer():
                    model(example_input)
    finally:
        h1.remove()
        h2.remove()
    if rejected:
        raise UnsupportedLayerError(
            f"untraced operations: {', '.join(rejected)}; supported: conv1d, conv2d, "
            "linear, matmul, mm, bmm, addmm, baddbmm, scaled_dot_product_attention, "
            "MultiheadAttention")
    if counter is not None:
        ref = counter.get_total_flops()
        got = 2 * batch * sum(la.macs for la in records)
        # FlopCounterMode (torch 2.13) counts scaled_dot_product_attention on the meta
        # device (as bmm) but not its CPU kernel: accept either.
        sdpa = 2 * batch * attn_macs[0]
        if ref != got and not (sdpa and ref == got - sdpa):
            by_op = counter.get_flop_counts().get("Global", {})
            ops = ", ".join(f"{op} {n // 2:,} MACs" for op, n in by_op.items())
            raise UnsupportedLayerError(
                f"traced {got // 2:,} MACs but FlopCounterMode counts {ref // 2:,} "
                f"(batch {batch}): some products are untraced; FlopCounterMode by op: {ops}")
    if not records:
        raise UnsupportedLayerError(
            f"model {type(model).__name__} has no convolution or matrix product to cost")
    return tuple(records)
