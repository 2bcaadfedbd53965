"""Per-layer energy, latency and traffic of a network on an accelerator, vectorized.

:func:`layer_costs` evaluates every layer at broadcastable weight / activation widths in
one numpy pass; :func:`cost_table` uses it on the ``(n_layers, n_bw, n_ba)`` grid the
allocator needs, :func:`estimate` at one per-layer bit configuration. The equations are
in README.md; in short, per layer:

- compute cycles from the spatial mapping (reduction on ``rows``, output channels on
  ``cols``, ceil per tile);
- DRAM traffic for a batch from a two-option tiling (weight chunks with inputs
  re-fetched, or input chunks with weights re-fetched; the cheaper is taken), buffer
  fills and reads from the array's reuse (optional local registers per MAC);
- latency = max(compute cycles, traffic / bandwidth of each level) (roofline);
- energy = compute + on-chip (buffers, local) + DRAM;
- every figure divided by the batch: per inference.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from ._accel import Accelerator
from ._bits import parse_bits
from ._layers import Layer

__all__ = ["METRICS", "CostTable", "compute_cycles", "cost_table", "estimate", "layer_costs",
           "pair_code", "parse_pair_code"]

#: metric -> unit, in the order tables list them.
METRICS = {
    "energy_uj": "uJ",
    "energy_compute_uj": "uJ",
    "energy_onchip_uj": "uJ",
    "energy_dram_uj": "uJ",
    "latency_cycles": "cycles",
    "compute_cycles": "cycles",
    "memory_cycles": "cycles",
    "dram_bytes": "bytes",
    "bops": "bit-ops",
    "weight_bytes": "bytes",
}


def _cdiv(a, b):
    return -(-a // b)


def _layer_arrays(layers: Sequence[Layer]) -> dict[str, np.ndarray]:
    f = {
        "P": [la.positions for la in layers],
        "G": [la.groups for la in layers],
        "K": [la.reduction for la in layers],
        "CG": [la.out_channels // la.groups for la in layers],
        "taps": [la.kernel[0] * la.kernel[1] for la in layers],
        "macs": [la.macs for la in layers],
        "params": [la.params for la in layers],
        "wop": [la.weight_elems for la in layers],
        "inp": [la.input_elems for la in layers],
        "out": [la.output_elems for la in layers],
        "first": [i == 0 for i in range(len(layers))],
    }
    return {k: np.array(v, dtype=np.int64) for k, v in f.items()}


def compute_cycles(layers: Sequence[Layer], accel: Accelerator, bw, ba, batch: int = 1):
    """Compute cycles of each layer for a batch of ``batch`` inferences (array steps).

    Reduction on ``rows`` (positions on ``bitserial``), output channels on ``cols``;
    groups of a grouped or depthwise convolution are packed side by side across
    ``cols`` (``max(1, cols // (Cout/G))`` groups per step), each column reducing over
    its own group's inputs, with the kernel taps in the rows (im2col within a group). ``bw``, ``ba`` broadcast as in :func:`layer_costs`.
    """
    bw = np.asarray(bw, dtype=np.int64)
    ba = np.asarray(ba, dtype=np.int64)
    shape = (len(layers),) if (bw.ndim <= 1 and ba.ndim <= 1) else (len(layers), 1, 1)
    a = {k: v.reshape(shape) for k, v in _layer_arrays(layers).items()}
    P = a["P"] * int(batch)
    G, K, CG, taps = a["G"], a["K"], a["CG"], a["taps"]
    gpc = np.where(G > 1, np.maximum(1, accel.cols // CG), 1)
    steps = _cdiv(G, gpc) * _cdiv(CG, accel.cols)
    if accel.kind == "bitserial":
        return (_cdiv(P, accel.rows) * steps * _cdiv(K, accel.lanes)
                * np.asarray(accel.serial_cycles(bw, ba), dtype=np.int64))
    if accel.kind == "bitfusion":
        # 16 BitBricks per unit: 16 / bricks MACs per unit-cycle (the artifact's
        # perf_factor); ceil(K * bricks / (rows * 16)) = ceil(K / (rows * perf_factor)).
        need = np.asarray(accel.bricks(bw, ba), dtype=np.int64)
        per = accel.rows * accel.lanes
    else:
        _, speed = accel.precision(bw, ba)
        need = np.ones_like(np.asarray(speed, dtype=np.int64))
        per = accel.rows * np.asarray(speed, dtype=np.int64)
    im2col = _cdiv(K * need, per)
    per_tap = taps * _cdiv(K // taps * need, per)
    if accel.conv_mapping == "im2col":
        red = im2col
    elif accel.conv_mapping == "per_tap":
        red = per_tap
    else:
        red = np.where(a["first"] == 1, im2col, per_tap)
    # A grouped (depthwise) convolution puts its groups across the columns and its kernel
    # taps in the rows: Cin/G is too small to fill the rows one tap at a time.
    red = np.where(G > 1, im2col, red)
    return P * steps * red


def layer_costs(layers: Sequence[Layer], accel: Accelerator, bw, ba, batch: int = 1,
                out_bits=None) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for each layer at widths ``bw``, ``ba``.

    Parameters
    ----------
    layers : sequence of Layer
        The network (n layers), per inference.
    accel : Accelerator
    bw, ba : array_like of int
        Weight and activation widths (bits), broadcastable against ``(n, 1, 1)`` (e.g.
        shape ``(n, 1, 1)``, ``(1, k, 1)``) or shape ``(n,)`` for one width per layer.
    batch : int
        Inferences run together: weights are fetched once per batch, activations per
        inference. Every figure is returned per inference (batch figure / ``batch``).
    out_bits : array_like of int, optional
        Width each layer's output is written at (bits; its consumer's activation width).
        Default: the layer's own ``ba``, the only width a separable table can know.

    Returns
    -------
    dict of str to numpy.ndarray
        Metric -> array of the broadcast shape (units in :data:`METRICS`), plus
        ``memory_bound`` (bool).
    """
    if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be a positive integer (inferences), not {batch!r}")
    batch = int(batch)
    bw = np.asarray(bw, dtype=np.int64)
    ba = np.asarray(ba, dtype=np.int64)
    accel.check_bits(bw, ba)
    n = len(layers)
    a = _layer_arrays(layers)
    shape = (n,) if (bw.ndim <= 1 and ba.ndim <= 1) else (n, 1, 1)
    a = {k: v.reshape(shape) for k, v in a.items()}
    P, G, K, CG = a["P"] * batch, a["G"], a["K"], a["CG"]
    sw, sa = accel.storage_bits(bw, ba)
    sw = np.asarray(sw, dtype=np.int64)
    sa = np.asarray(sa, dtype=np.int64)
    macs = a["macs"] * batch

    compute = compute_cycles(layers, accel, bw, ba, batch)

    # DRAM traffic (bits) for the batch: compulsory traffic plus re-fetches of the tiling.
    W = a["wop"] * sw
    I_ = a["inp"] * batch * sa
    if out_bits is None:
        so = sa
    else:
        ob = np.asarray(out_bits, dtype=np.int64)
        accel.check_bits(ob, ob, "output ")
        so = np.asarray(accel.storage_bits(ob, ob)[1], dtype=np.int64)
    O_ = a["out"] * batch * so
    wb = accel.level("weight_buffer").size_bytes * 8
    ib = accel.level("input_buffer").size_bytes * 8
    w_chunks = _cdiv(W, wb)
    i_chunks = _cdiv(I_, ib)
    opt_a_in = I_ * np.where(I_ > ib, w_chunks, 1)      # weight chunks, inputs re-read
    opt_b_w = W * np.where(W > wb, i_chunks, 1)         # input chunks, weights re-read
    use_a = W + opt_a_in <= opt_b_w + I_
    dram_w = np.where(use_a, W, opt_b_w)
    dram_i = np.where(use_a, opt_a_in, I_)
    dram = dram_w + dram_i + O_

    # On-chip traffic (bits). Partial sums stay in the array's accumulators until the
    # reduction is done (outputs leave once). Weights are read from the (banked) weight
    # buffer per use, shared only across the positions mapped on ``rows`` of a bit-serial
    # array; inputs are broadcast across the ``cols`` output channels of one group (read
    # once per output-channel tile, once per kernel tap: no sliding-window reuse).
    col_tiles = _cdiv(CG, accel.cols)
    if accel.kind == "bitserial":
        w_reads = _cdiv(P, accel.rows) * G * CG * K * sw
    else:
        w_reads = macs * sw
    i_reads = P * G * K * col_tiles * sa
    lv = {m.name: m for m in accel.memory}
    memory = reduce(np.maximum, [
        dram / lv["dram"].bandwidth_bits_per_cycle,
        (dram_w + w_reads) / lv["weight_buffer"].bandwidth_bits_per_cycle,
        (dram_i + i_reads) / lv["input_buffer"].bandwidth_bits_per_cycle,
        2 * O_ / lv["output_buffer"].bandwidth_bits_per_cycle,
    ])
    memory = np.ceil(memory).astype(np.int64)
    latency = np.maximum(compute, memory)

    if accel.kind == "bitfusion":
        # The artifact charges the whole array's dynamic power per compute cycle.
        e_compute = compute * accel.units * accel.unit_cycle_energy_pj()
    else:
        e_compute = macs * accel.mac_energy_pj(bw, ba)
    wbuf, ibuf, obuf = lv["weight_buffer"], lv["input_buffer"], lv["output_buffer"]
    e_onchip = (dram_w * wbuf.write_energy_pj_per_bit + w_reads * wbuf.energy_pj_per_bit
                + dram_i * ibuf.write_energy_pj_per_bit + i_reads * ibuf.energy_pj_per_bit
                + O_ * (obuf.write_energy_pj_per_bit + obuf.energy_pj_per_bit))
    if "local" in lv:
        e_onchip = e_onchip + macs * (sw + sa) * lv["local"].energy_pj_per_bit
    e_dram = dram * lv["dram"].energy_pj_per_bit

    def per_inf(x):
        return x if batch == 1 else x / batch

    out = {
        "energy_compute_uj": per_inf(e_compute * 1e-6),
        "energy_onchip_uj": per_inf(e_onchip * 1e-6),
        "energy_dram_uj": per_inf(e_dram * 1e-6),
        "latency_cycles": per_inf(latency),
        "compute_cycles": per_inf(compute),
        "memory_cycles": per_inf(memory),
        "dram_bytes": per_inf(dram / 8),
        "bops": a["macs"] * bw * ba,
        "weight_bytes": a["params"] * bw / 8,
    }
    out["energy_uj"] = out["energy_compute_uj"] + out["energy_onchip_uj"] + out["energy_dram_uj"]
    full = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
    res = {k: np.broadcast_to(out[k], full).copy() for k in METRICS}
    res["memory_bound"] = np.broadcast_to(memory > compute, full).copy()
    return res


def pair_code(bw: int, ba: int) -> int:
    """Encode a ``(bw, ba)`` pair as the integer choice ``100*bw + ba`` (``w4a8`` -> 408).

    Sorted by ``bw`` then ``ba``, codes are strictly increasing, as a search Problem needs.
    """
    return 100 * int(bw) + int(ba)


def parse_pair_code(code: int) -> tuple[int, int]:
    """Inverse of :func:`pair_code`: ``(bw, ba)`` (bits)."""
    return int(code) // 100, int(code) % 100


@dataclass(frozen=True)
class CostTable:
    """Per-layer cost of every ``(bw, ba)`` choice, in each metric.

    Parameters
    ----------
    layer_names : tuple of str
        Variables of the allocation problem, in order.
    w_bits, a_bits : tuple of int
        Weight and activation widths of the grid (bits).
    metrics : dict of str to numpy.ndarray
        Metric -> array (n_layers, len(w_bits), len(a_bits)); units in :attr:`units`.
    accelerator : str
        Accelerator name.
    layer_params, layer_inputs : tuple of int
        Weights and input activation elements per layer (for the default error proxy).
    batch : int
        Inferences per batch the figures assume (they are per inference).
    """

    layer_names: tuple[str, ...]
    w_bits: tuple[int, ...]
    a_bits: tuple[int, ...]
    metrics: dict
    accelerator: str
    layer_params: tuple[int, ...] = ()
    layer_inputs: tuple[int, ...] = ()
    batch: int = 1

    @property
    def units(self) -> dict[str, str]:
        """Metric -> unit."""
        return {k: METRICS[k] for k in self.metrics}

    @property
    def codes(self) -> tuple[int, ...]:
        """Choice codes ``100*bw + ba`` in flattened (bw-major) order."""
        return tuple(pair_code(w, a) for w in self.w_bits for a in self.a_bits)

    def flat(self, metric: str) -> np.ndarray:
        """``metric`` as (n_layers, n_choices) in :attr:`codes` order."""
        if metric not in self.metrics:
            raise KeyError(f"metric must be one of {', '.join(self.metrics)}, not {metric!r}")
        m = self.metrics[metric]
        return m.reshape(m.shape[0], -1)

    def to_npz(self, path) -> None:
        """Save as NPZ: one array per metric plus ``w_bits``, ``a_bits``, ``layer_names``
        and ``units`` (JSON string). Deterministic: no timestamps in the archive members."""
        arrays = {k: np.asarray(v) for k, v in sorted(self.metrics.items())}
        arrays["w_bits"] = np.array(self.w_bits, dtype=np.int64)
        arrays["a_bits"] = np.array(self.a_bits, dtype=np.int64)
        arrays["layer_names"] = np.array(self.layer_names)
        arrays["units"] = np.array(json.dumps(self.units, sort_keys=True))
        arrays["batch"] = np.array(self.batch, dtype=np.int64)
        # np.savez stamps members with the current time; fixed ZipInfo dates keep the
        # file byte-for-byte reproducible.
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            for key in arrays:
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arrays[key], allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                            buf.getvalue())

    def to_json(self, path=None) -> str:
        """JSON text (sorted keys, floats with 9 significant digits); written to ``path``
        if given. Layout: ``{"accelerator", "w_bits", "a_bits", "layers", "units",
        "batch", "metrics": {metric: [[[...]]]}}``."""
        def fmt(v):
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            if isinstance(v, (int, np.integer)):
                return int(v)
            return float(f"{float(v):.9g}")

        doc = {
            "accelerator": self.accelerator,
            "w_bits": list(self.w_bits),
            "a_bits": list(self.a_bits),
            "layers": list(self.layer_names),
            "choice_code": "100*bw + ba",
            "batch": self.batch,
            "units": self.units,
            "metrics": {k: np.vectorize(fmt, otypes=[object])(v).tolist()
                        for k, v in sorted(self.metrics.items())},
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def problem(self, metric: str, budget: float, error_table=None, resolution: float = 1.0):
        """The allocation problem: minimize error subject to total ``metric <= budget``.

        Variables are layers; choices are the codes ``100*bw + ba`` (strictly increasing).
        Costs become integers as ``ceil(value / resolution)``; the budget as
        ``floor(budget / resolution)`` (so a solution within the integer budget is within
        ``budget`` in the metric's unit).

        Parameters
        ----------
        metric : str
            One of :data:`METRICS`.
        budget : float
            Total allowed, in the metric's unit (:attr:`units`).
        error_table : array_like, optional
            Per layer and choice, error contribution, shape (n_layers, n_choices) or
            (n_layers, n_bw, n_ba). Default: the quantization-noise proxy
            ``params * 4**-bw + input_elems * 4**-ba`` (noise power of a uniform quantizer
            on unit-range tensors; a stand-in for a measured sensitivity, not accuracy).
        resolution : float
            Integer cost unit, in the metric's unit (e.g. 0.01 uJ).

        Returns
        -------
        bitsmith.search.SeparableProblem
        """
        from bitsmith.search import SeparableProblem

        if resolution <= 0:
            raise ValueError(f"resolution must be positive ({self.units.get(metric)}), "
                             f"not {resolution}")
        cost = np.ceil(self.flat(metric) / resolution - 1e-9).astype(np.int64)
        n = len(self.layer_names)
        if error_table is None:
            if len(self.layer_params) != n or len(self.layer_inputs) != n:
                raise ValueError("the default error proxy needs layer_params and "
                                 f"layer_inputs for all {n} layers; pass error_table")
            wb = np.array(self.w_bits, dtype=float)[None, :, None]
            ab = np.array(self.a_bits, dtype=float)[None, None, :]
            params = np.array(self.layer_params, dtype=float)[:, None, None]
            inputs = np.array(self.layer_inputs, dtype=float)[:, None, None]
            err = (params * 4.0 ** -wb + inputs * 4.0 ** -ab).reshape(n, -1)
        else:
            err = np.asarray(error_table, dtype=float).reshape(n, -1)
            if err.shape[1] != len(self.codes):
                raise ValueError(f"error_table must have {len(self.codes)} choices per layer "
                                 f"(w_bits x a_bits), not shape {np.shape(error_table)}")
        choices = [self.codes] * n
        return SeparableProblem(list(err), list(cost), int(np.floor(budget / resolution)),
                                choices)


def cost_table(layers: Sequence[Layer], accel: Accelerator, w_bits=range(2, 9),
               a_bits=range(2, 9), batch: int = 1) -> CostTable:
    """Cost of every layer at every ``(bw, ba)`` pair, in one vectorized pass.

    Parameters
    ----------
    layers : sequence of Layer
    accel : Accelerator
    w_bits, a_bits : iterable of int
        Weight and activation widths (bits), strictly increasing.
    batch : int
        Inferences per batch; figures are per inference (see :func:`layer_costs`).

    Returns
    -------
    CostTable
    """
    wb = tuple(int(b) for b in w_bits)
    ab = tuple(int(b) for b in a_bits)
    for name, bits in (("w_bits", wb), ("a_bits", ab)):
        if not bits or any(y <= x for x, y in zip(bits, bits[1:], strict=False)):
            raise ValueError(f"{name} must be a non-empty strictly increasing sequence of "
                             f"bits, not {bits}")
        if bits[-1] > 99:
            raise ValueError(f"{name} must be below 100 bits (choice code 100*bw + ba), "
                             f"not {bits[-1]}")
    bw = np.array(wb, dtype=np.int64)[None, :, None]
    ba = np.array(ab, dtype=np.int64)[None, None, :]
    m = layer_costs(layers, accel, bw, ba, batch)
    m.pop("memory_bound")
    return CostTable(tuple(la.name for la in layers), wb, ab, m, accel.name,
                     tuple(la.params for la in layers), tuple(la.input_elems for la in layers),
                     int(batch))


def estimate(layers: Sequence[Layer], accel: Accelerator, bits, batch: int = 1) -> dict:
    """Per-layer and total figures at one bit configuration, per inference.

    Parameters
    ----------
    layers : sequence of Layer
    accel : Accelerator
    bits : (bw, ba), "w4a8", mapping or JSON path
        Uniform widths or per-layer pairs (bits), anything :func:`parse_bits` reads.
    batch : int
        Inferences per batch (weights fetched once per batch); figures per inference.

    Returns
    -------
    dict
        ``layers``: list of per-layer dicts (name, kind, bw, ba, macs, params, each metric,
        ``latency_ms``, ``memory_bound``); ``totals``: sums with ``latency_ms``,
        ``area_mm2`` (by component) and ``model_size_mb`` (2^20 bytes).
    """
    names = [la.name for la in layers]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"layer names must be unique, not {dup!r} twice")
    pairs = parse_bits(bits, names)
    bw = np.array([pairs[n][0] for n in names], dtype=np.int64)
    ba = np.array([pairs[n][1] for n in names], dtype=np.int64)
    m = layer_costs(layers, accel, bw, ba, batch)
    f_mhz = accel.technology.clock_mhz
    rows = []
    for i, la in enumerate(layers):
        r = {"name": la.name, "kind": la.kind, "bw": int(bw[i]), "ba": int(ba[i]),
             "macs": la.macs, "params": la.params, "batch": int(batch)}
        for k in METRICS:
            v = m[k][i]
            r[k] = int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else float(v)
        r["latency_ms"] = r["latency_cycles"] / (f_mhz * 1e3)
        r["memory_bound"] = bool(m["memory_bound"][i])
        rows.append(r)
    totals = {k: (int(m[k].sum()) if np.issubdtype(m[k].dtype, np.integer)
                  else float(m[k].sum())) for k in METRICS}
    totals["macs"] = int(sum(la.macs for la in layers))
    totals["params"] = int(sum(la.params for la in layers))
    totals["latency_ms"] = totals["latency_cycles"] / (f_mhz * 1e3)
    totals["model_size_mb"] = totals["weight_bytes"] / 2**20
    totals["batch"] = int(batch)
    totals["area_mm2"] = accel.area_mm2()
    totals["memory_bound_layers"] = int(m["memory_bound"].sum())
    return {"layers": rows, "totals": totals}
