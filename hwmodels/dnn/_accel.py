"""Accelerator descriptions (frozen specs from YAML) and their per-operation cost tables.

Three kinds share one spatial-array and memory-hierarchy model (see README.md):

- ``bitfusion``: ``rows x cols`` Fusion Units of 16 2-bit BitBricks; a ``(bw, ba)`` MAC
  takes ``ceil(bw/2) * ceil(ba/2)`` brick-cycles.
- ``bitserial``: ``rows x cols`` dot-product units of ``lanes`` 1-bit products per cycle;
  a MAC takes ``bw * ba`` (``serial: both``, BISMO) or ``ba`` (``serial: activation``,
  Stripes) lane-cycles.
- ``systolic``: ``rows x cols`` fixed-precision PEs; operands are padded to the smallest
  supported precision ``p >= max(bw, ba)``, which runs ``speedup[p]`` MACs per PE-cycle.

Compute energy and area come from the 45 nm PE synthesis figures of Bit Fusion
(``data/pe_45nm.yaml``) through :class:`PeTable`; memory energy per bit from Horowitz's
SRAM figures by capacity; both scaled to other nodes by :class:`Technology`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

__all__ = [
    "ACCEL_KINDS",
    "Accelerator",
    "MemoryLevel",
    "PeTable",
    "Technology",
    "accelerator_from_dict",
    "builtin_accelerators",
    "load_accelerator",
    "pe_table",
]

ACCEL_KINDS = ("bitfusion", "bitserial", "systolic")


def _data(name: str) -> str:
    return resources.files("bitsmith.hwmodels.dnn").joinpath("data", name).read_text(
        encoding="utf-8")


@dataclass(frozen=True)
class PeTable:
    """PE area and energy per operation by bit-width, fitted to published 45 nm figures.

    A fixed-precision ``bw x ba`` PE is modeled as ``A = a2*bw*ba + a1*(bw+ba)/2 + a0``
    (um^2: multiplier array ~ product of widths, adders and registers ~ width) and
    ``P = p2*bw*ba + p1*(bw+ba)/2`` (uW at ``clock_mhz``), least-squares fitted to the
    Bit Fusion fixed 2/2, 4/4, 8/8 (and 16/16 for area) synthesis points. Fusible
    Fusion Units are table look-ups.

    Parameters
    ----------
    fixed_points : tuple of (bits, area_um2, power_uw or nan)
        Published fixed-precision PE points.
    fusible_points : tuple of (max_bits, area_um2, power_uw or nan)
        Published Fusion Unit points.
    clock_mhz : float
        Clock of the power figures (MHz).
    sram : tuple of (KiB, pJ per 64-bit access)
        Horowitz SRAM access energies.
    add : tuple of (bits, pJ)
        Horowitz integer-add energies.
    """

    fixed_points: tuple[tuple[float, float, float], ...]
    fusible_points: tuple[tuple[float, float, float], ...]
    clock_mhz: float
    sram: tuple[tuple[float, float], ...]
    add: tuple[tuple[float, float], ...]
    area_coef: tuple[float, float, float] = field(init=False)
    power_coef: tuple[float, float] = field(init=False)

    def __post_init__(self):
        b = np.array([r[0] for r in self.fixed_points], dtype=float)
        a = np.array([r[1] for r in self.fixed_points], dtype=float)
        p = np.array([r[2] for r in self.fixed_points], dtype=float)
        ca = np.linalg.lstsq(np.stack([b * b, b, np.ones_like(b)], 1), a, rcond=None)[0]
        ok = np.isfinite(p)
        cp = np.linalg.lstsq(np.stack([b[ok] * b[ok], b[ok]], 1), p[ok], rcond=None)[0]
        object.__setattr__(self, "area_coef", tuple(float(c) for c in ca))
        object.__setattr__(self, "power_coef", tuple(float(c) for c in cp))

    def fixed_area_um2(self, bw, ba):
        """Area of a fixed ``bw x ba`` PE at 45 nm (um^2); broadcasts over arrays."""
        a2, a1, a0 = self.area_coef
        return a2 * np.multiply(bw, ba) + a1 * np.add(bw, ba) / 2 + a0

    def fixed_power_uw(self, bw, ba):
        """Power of a fixed ``bw x ba`` PE at 45 nm and ``clock_mhz`` (uW)."""
        p2, p1 = self.power_coef
        return p2 * np.multiply(bw, ba) + p1 * np.add(bw, ba) / 2

    def fixed_energy_pj(self, bw, ba):
        """Energy of one cycle (one MAC) of a fixed ``bw x ba`` PE at 45 nm (pJ)."""
        return self.fixed_power_uw(bw, ba) / self.clock_mhz

    def fusible(self, max_bits: int) -> tuple[float, float]:
        """Area (um^2) and power (uW, nan if unpublished) of a Fusion Unit for ``max_bits``."""
        for mb, area, power in self.fusible_points:
            if int(mb) == max_bits:
                return float(area), float(power)
        have = ", ".join(str(int(r[0])) for r in self.fusible_points)
        raise ValueError(f"Fusion Unit max_bits must be one of {have}, not {max_bits}")

    def sram_pj_per_bit(self, size_bytes: float) -> float:
        """SRAM access energy per bit at 45 nm (pJ/bit), log-log interpolated on capacity.

        Outside Horowitz's 8 KiB - 1 MiB range the end slopes extrapolate.
        """
        if size_bytes <= 0:
            raise ValueError(f"SRAM size must be positive (bytes), not {size_bytes}")
        k = np.log([s[0] * 1024 for s in self.sram])
        e = np.log([s[1] / 64 for s in self.sram])
        x = math.log(size_bytes)
        i = int(np.clip(np.searchsorted(k, x) - 1, 0, len(k) - 2))
        slope = (e[i + 1] - e[i]) / (k[i + 1] - k[i])
        return float(math.exp(e[i] + slope * (x - k[i])))

    def add_pj(self, bits: float) -> float:
        """Integer add energy at 45 nm (pJ), linear in width through Horowitz's points."""
        b = [a[0] for a in self.add]
        e = [a[1] for a in self.add]
        if bits > b[-1]:
            return e[-1] * bits / b[-1]
        return float(np.interp(bits, b, e))


@cache
def pe_table() -> PeTable:
    """The built-in 45 nm PE table (``data/pe_45nm.yaml``)."""
    d = yaml.safe_load(_data("pe_45nm.yaml"))
    nan = float("nan")
    return PeTable(
        fixed_points=tuple((r["bits"], r["area_um2"], r.get("power_uw", nan)) for r in d["fixed"]),
        fusible_points=tuple((r["max_bits"], r["area_um2"], r.get("power_uw", nan))
                      for r in d["fusible"]),
        clock_mhz=float(d["clock_mhz"]),
        sram=tuple((r["kib"], r["pj"]) for r in d["sram_pj_per_64b"]),
        add=tuple((r["bits"], r["pj"]) for r in d["add_pj"]),
    )


@dataclass(frozen=True)
class Technology:
    """Process node, supply and clock, with first-order scaling from 45 nm / 0.9 V.

    Area scales as ``(node/45)^2``; dynamic energy as ``(node/45) * (vdd/0.9)^2``
    (capacitance ~ feature size). DRAM energy is not scaled (interface-dominated).
    Below ~22 nm these ideal factors overstate the gains (wires, FinFET): treat them as
    optimistic bounds.

    Parameters
    ----------
    node_nm : float
        Feature size (nm).
    vdd_v : float
        Supply (V).
    clock_mhz : float
        Clock (MHz).
    sram_mm2_per_kib : float
        SRAM macro area at 45 nm (mm^2 per KiB), an assumption.
    """

    node_nm: float = 45.0
    vdd_v: float = 0.9
    clock_mhz: float = 500.0
    sram_mm2_per_kib: float = 0.0055

    @property
    def area_scale(self) -> float:
        """Area factor relative to 45 nm."""
        return (self.node_nm / 45.0) ** 2

    @property
    def energy_scale(self) -> float:
        """Dynamic-energy factor relative to 45 nm, 0.9 V."""
        return (self.node_nm / 45.0) * (self.vdd_v / 0.9) ** 2


@dataclass(frozen=True)
class MemoryLevel:
    """One memory of the hierarchy.

    Parameters
    ----------
    name : str
        ``dram``, ``weight_buffer``, ``input_buffer``, ``output_buffer`` or ``local``.
    size_bytes : int
        Capacity (bytes); 0 for DRAM (unbounded); per PE for ``local``.
    bandwidth_bits_per_cycle : float
        Bits per clock cycle (inf: never a bottleneck).
    energy_pj_per_bit : float
        Access energy at the accelerator's node (pJ/bit).
    area_mm2 : float
        Area at the accelerator's node (mm^2), per PE for ``local``.
    banks : int
        Independent banks (the access energy is that of one ``size_bytes / banks`` bank).
    """

    name: str
    size_bytes: int
    bandwidth_bits_per_cycle: float
    energy_pj_per_bit: float
    area_mm2: float
    banks: int = 1


@dataclass(frozen=True)
class Accelerator:
    """A DNN accelerator: spatial array, arithmetic kind and memory hierarchy.

    Built by :func:`load_accelerator`; see the module docstring for the kinds.

    Parameters
    ----------
    name, kind : str
        Label and one of :data:`ACCEL_KINDS`.
    rows, cols : int
        Array size (units). ``rows`` span the reduction axis (positions for
        ``bitserial``), ``cols`` output channels.
    min_bits, max_bits : int
        Supported operand widths (bits).
    accumulator_bits : int
        Partial-sum width (bits).
    technology : Technology
    memory : tuple of MemoryLevel
        ``dram, weight_buffer, input_buffer, output_buffer, local`` in this order.
    lanes : int
        ``bitserial``: 1-bit products per unit per cycle; ``bitfusion``: BitBricks per unit.
    serial : str
        ``bitserial``: ``both`` or ``activation``.
    precisions, speedup : tuple of int
        ``systolic``: supported precisions (bits) and MACs per PE-cycle at each.
    """

    name: str
    kind: str
    rows: int
    cols: int
    min_bits: int
    max_bits: int
    accumulator_bits: int
    technology: Technology
    memory: tuple[MemoryLevel, ...]
    lanes: int = 1
    serial: str = "both"
    precisions: tuple[int, ...] = (8,)
    speedup: tuple[int, ...] = (1,)

    def level(self, name: str) -> MemoryLevel:
        """The memory level called ``name``."""
        for m in self.memory:
            if m.name == name:
                return m
        raise KeyError(f"memory level must be one of {[m.name for m in self.memory]}, "
                       f"not {name!r}")

    @property
    def units(self) -> int:
        """Array units (Fusion Units, dot-product units or PEs)."""
        return self.rows * self.cols

    def unit_area_um2(self) -> float:
        """Area of one array unit at 45 nm (um^2)."""
        t = pe_table()
        if self.kind == "bitfusion":
            return t.fusible(8)[0]
        if self.kind == "systolic":
            p = max(self.precisions)
            return float(t.fixed_area_um2(p, p))
        # Bit-serial unit: the fit's product-array term for lanes x b_par one-bit products,
        # its width term at the accumulator width, and its constant.
        a2, a1, a0 = t.area_coef
        bpar = 1 if self.serial == "both" else self.max_bits
        return a2 * self.lanes * bpar + a1 * self.accumulator_bits / 2 + a0

    def area_mm2(self) -> dict[str, float]:
        """Area by component at the accelerator's node (mm^2): ``array``, ``sram``, ``total``."""
        array = self.units * self.unit_area_um2() * 1e-6 * self.technology.area_scale
        sram = sum(m.area_mm2 * (self.units if m.name == "local" else 1) for m in self.memory)
        return {"array": array, "sram": sram, "total": array + sram}

    def mac_energy_pj(self, bw, ba):
        """Compute energy of one ``bw x ba`` MAC at the accelerator's node (pJ); broadcasts."""
        t = pe_table()
        bw = np.asarray(bw)
        ba = np.asarray(ba)
        if self.kind == "bitfusion":
            e_cycle = t.fusible(8)[1] / t.clock_mhz
            bricks = np.ceil(bw / 2) * np.ceil(ba / 2)
            e = e_cycle * bricks / self.lanes
        elif self.kind == "systolic":
            # One PE of the widest precision, splitting into `speedup` narrower MACs.
            _, s = self.precision(bw, ba)
            p = max(self.precisions)
            e = t.fixed_energy_pj(p, p) / s
        else:
            p2, p1 = t.power_coef
            bpar = 1 if self.serial == "both" else self.max_bits
            e_cycle = (p2 * self.lanes * bpar + p1 * self.accumulator_bits / 2) / t.clock_mhz
            e = e_cycle * self.serial_cycles(bw, ba) / self.lanes
        return e * self.technology.energy_scale

    def precision(self, bw, ba):
        """``systolic``: precision each MAC runs at (bits) and its speedup, as arrays."""
        need = np.maximum(bw, ba)
        prec = np.asarray(self.precisions)
        idx = np.searchsorted(prec, need)
        idx = np.minimum(idx, len(prec) - 1)
        return prec[idx], np.asarray(self.speedup)[idx]

    def serial_cycles(self, bw, ba):
        """``bitserial``: lane-cycles per MAC (``bw*ba`` or ``ba``)."""
        return np.multiply(bw, ba) if self.serial == "both" else np.asarray(ba) + 0 * bw

    def storage_bits(self, bw, ba):
        """Bits a weight and an activation occupy in memory (padded on ``systolic``)."""
        if self.kind == "systolic":
            p, _ = self.precision(bw, ba)
            return p, p
        return np.asarray(bw), np.asarray(ba)

    def check_bits(self, bw, ba, where: str = "") -> None:
        """Raise ValueError unless every width lies in ``[min_bits, max_bits]``."""
        for what, b in (("weight", bw), ("activation", ba)):
            b = np.asarray(b)
            bad = (b < self.min_bits) | (b > self.max_bits) | (b != np.round(b))
            if bad.any():
                v = b[bad].flat[0]
                raise ValueError(
                    f"{where}{what} bits must be integers between {self.min_bits} and "
                    f"{self.max_bits} on accelerator {self.name!r} ({self.kind}), not {v}")


_MEMS = ("dram", "weight_buffer", "input_buffer", "output_buffer", "local")


def _num(d: Mapping, key: str, where: str, lo: float = 0.0, default: Any = None,
         integer: bool = False, strict: bool = True) -> Any:
    v = d.get(key, default)
    if v is None:
        raise ValueError(f"{where}.{key}: required key is missing")
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok and integer:
        ok = isinstance(v, int)
    if not ok or (v <= lo if strict else v < lo) or (
            isinstance(v, float) and not math.isfinite(v) and v != default):
        kind = "an integer" if integer else "a number"
        rel = ">" if strict else ">="
        raise ValueError(f"{where}.{key}: must be {kind} {rel} {lo:g}, not {v!r}")
    return v


def accelerator_from_dict(d: Mapping, source: str = "accelerator") -> Accelerator:
    """Build an :class:`Accelerator` from its YAML mapping (see ``data/*.yaml``).

    Errors name ``source`` and the key path.
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"{source}: must be a mapping, not {d!r}")
    allowed = {"name", "kind", "rows", "cols", "lanes", "serial", "precisions", "speedup",
               "min_bits", "max_bits", "accumulator_bits", "technology", "memory"}
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ValueError(f"{source}.{unknown[0]}: unknown key; allowed keys: "
                         + ", ".join(sorted(allowed)))
    kind = d.get("kind")
    if kind not in ACCEL_KINDS:
        raise ValueError(f"{source}.kind: must be one of {', '.join(ACCEL_KINDS)}, "
                         f"not {kind!r}")
    tech_d = d.get("technology", {}) or {}
    tw = f"{source}.technology"
    tech = Technology(
        node_nm=float(_num(tech_d, "node_nm", tw, default=45.0)),
        vdd_v=float(_num(tech_d, "vdd_v", tw, default=0.9)),
        clock_mhz=float(_num(tech_d, "clock_mhz", tw, default=500.0)),
        sram_mm2_per_kib=float(_num(tech_d, "sram_mm2_per_kib", tw, default=0.0055)),
    )
    mem_d = d.get("memory")
    if not isinstance(mem_d, Mapping):
        raise ValueError(f"{source}.memory: must be a mapping with keys {', '.join(_MEMS)}, "
                         f"not {mem_d!r}")
    extra = sorted(set(mem_d) - set(_MEMS))
    if extra:
        raise ValueError(f"{source}.memory.{extra[0]}: unknown level; allowed: "
                         + ", ".join(_MEMS))
    t = pe_table()
    levels = []
    for name in _MEMS:
        w = f"{source}.memory.{name}"
        m = mem_d.get(name)
        if not isinstance(m, Mapping):
            raise ValueError(f"{w}: must be a mapping, not {m!r}")
        banks = 1
        if name == "dram":
            size = 0
            e = float(_num(m, "energy_pj_per_bit", w))
            area = 0.0
        else:
            size = _num(m, "size_bytes", w, integer=True)
            banks = _num(m, "banks", w, integer=True, default=1)
            e45 = m.get("energy_pj_per_bit")
            e = (float(_num(m, "energy_pj_per_bit", w)) if e45 is not None
                 else t.sram_pj_per_bit(size / banks) * tech.energy_scale)
            area = size / 1024 * tech.sram_mm2_per_kib * tech.area_scale
        bw = float(_num(m, "bandwidth_bits_per_cycle", w, default=math.inf))
        extra = sorted(set(m) - {"size_bytes", "banks", "energy_pj_per_bit",
                                 "bandwidth_bits_per_cycle"})
        if extra:
            raise ValueError(f"{w}.{extra[0]}: unknown key; allowed keys: banks, "
                             "bandwidth_bits_per_cycle, energy_pj_per_bit, size_bytes")
        levels.append(MemoryLevel(name, int(size), bw, e, area, int(banks)))
    rows = _num(d, "rows", source, integer=True)
    cols = _num(d, "cols", source, integer=True)
    min_bits = _num(d, "min_bits", source, integer=True, default=1)
    max_bits = _num(d, "max_bits", source, integer=True, default=8)
    if min_bits > max_bits:
        raise ValueError(f"{source}: min_bits ({min_bits}) must not exceed max_bits "
                         f"({max_bits})")
    acc = _num(d, "accumulator_bits", source, integer=True, default=32)
    kw: dict[str, Any] = {}
    if kind == "bitfusion":
        kw["lanes"] = 16
    elif kind == "bitserial":
        kw["lanes"] = _num(d, "lanes", source, integer=True)
        serial = d.get("serial", "both")
        if serial not in ("both", "activation"):
            raise ValueError(f"{source}.serial: must be 'both' or 'activation', not {serial!r}")
        kw["serial"] = serial
    else:
        prec = d.get("precisions", [8])
        spd = d.get("speedup", [1] * len(prec) if isinstance(prec, list) else None)
        if (not isinstance(prec, list) or not prec or any(
                not isinstance(p, int) or p < 1 for p in prec)
                or sorted(set(prec)) != prec):
            raise ValueError(f"{source}.precisions: must be a strictly increasing list of "
                             f"positive integers (bits), not {prec!r}")
        if (not isinstance(spd, list) or len(spd) != len(prec)
                or any(not isinstance(s, int) or s < 1 for s in spd)):
            raise ValueError(f"{source}.speedup: must be a list of {len(prec)} positive "
                             f"integers (MACs per PE-cycle per precision), not {spd!r}")
        if prec[-1] < max_bits:
            raise ValueError(f"{source}.precisions: the largest ({prec[-1]}) must be at "
                             f"least max_bits ({max_bits})")
        kw["precisions"] = tuple(prec)
        kw["speedup"] = tuple(spd)
    return Accelerator(name=str(d.get("name", kind)), kind=kind, rows=rows, cols=cols,
                       min_bits=min_bits, max_bits=max_bits, accumulator_bits=acc,
                       technology=tech, memory=tuple(levels), **kw)


def builtin_accelerators() -> tuple[str, ...]:
    """Names of the accelerators shipped as package data."""
    return ("bitfusion", "bitserial", "systolic_int8")


def load_accelerator(source: str | Path | Mapping) -> Accelerator:
    """Load an accelerator: a built-in name, a YAML file path, or an inline mapping.

    Parameters
    ----------
    source : str, Path or mapping
        ``"bitfusion"``, ``"bitserial"``, ``"systolic_int8"``, a path such as
        ``configs/hw/bitfusion.yaml``, or the YAML mapping itself.

    Returns
    -------
    Accelerator
    """
    if isinstance(source, Mapping):
        return accelerator_from_dict(source)
    s = str(source)
    if s in builtin_accelerators():
        return accelerator_from_dict(yaml.safe_load(_data(f"{s}.yaml")), f"{s}.yaml")
    p = Path(s)
    if not p.is_file():
        raise ValueError(f"accelerator must be one of {', '.join(builtin_accelerators())} "
                         f"or an existing YAML file, not {s!r}")
    return accelerator_from_dict(yaml.safe_load(p.read_text(encoding="utf-8")), str(p))
