"""Accelerator descriptions (frozen specs from YAML) and their per-operation cost tables.

Three kinds share one spatial-array and memory-hierarchy model (see README.md):

- ``bitfusion``: ``rows x cols`` Fusion Units of 16 2-bit BitBricks. Operands fuse in
  powers of two (the artifact's ``perf_factor = int(8 / b)``): a ``b``-bit operand runs
  (and is stored) in the ``2, 4, 8`` or ``16``-bit mode ``>= b``, so a ``(bw, ba)`` MAC
  takes ``(mode(bw)/2) * (mode(ba)/2)`` brick-cycles.
- ``bitserial``: ``rows x cols`` dot-product units of ``lanes`` 1-bit products per cycle;
  a MAC takes ``bw * ba`` (``serial: both``, BISMO) or ``ba`` (``serial: activation``,
  Stripes) lane-cycles.
- ``systolic``: ``rows x cols`` fixed-precision PEs; operands are padded to the smallest
  supported precision ``p >= max(bw, ba)``, which runs ``speedup[p]`` MACs per PE-cycle.

Compute energy and area come from the 45 nm PE synthesis figures of the Bit Fusion
artifact (``data/pe_45nm.yaml``) through :class:`PeTable`; SRAM area and energy per bank
from the artifact's CACTI 45 nm table (Horowitz's figures above 16 KiB per bank); all
scaled to other nodes by :class:`Technology`.
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
    ``P = p2*bw*ba + p1*(bw+ba)/2 + p0`` (uW at ``clock_mhz``), least-squares fitted to
    the Bit Fusion artifact's fixed 2/2, 4/4, 8/8 and 16/16 synthesis points. Fusible
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
    fu_dynamic_uw : float
        Dynamic power of one fusible 8->2 Fusion Unit inside an array (uW), the figure the
        artifact's simulator charges per compute cycle.
    cacti : tuple of (bytes, rw, area_mm2, read_nJ, write_nJ)
        CACTI 45 nm single-bank SRAM points (32-bit words); ``rw`` 1 for a read-write port.
    """

    fixed_points: tuple[tuple[float, float, float], ...]
    fusible_points: tuple[tuple[float, float, float], ...]
    clock_mhz: float
    sram: tuple[tuple[float, float], ...]
    add: tuple[tuple[float, float], ...]
    fu_dynamic_uw: float = 229.59375
    cacti: tuple[tuple[float, int, float, float, float], ...] = ()
    area_coef: tuple[float, float, float] = field(init=False)
    power_coef: tuple[float, float, float] = field(init=False)

    def __post_init__(self):
        b = np.array([r[0] for r in self.fixed_points], dtype=float)
        a = np.array([r[1] for r in self.fixed_points], dtype=float)
        p = np.array([r[2] for r in self.fixed_points], dtype=float)
        ca = np.linalg.lstsq(np.stack([b * b, b, np.ones_like(b)], 1), a, rcond=None)[0]
        ok = np.isfinite(p)
        cp = np.linalg.lstsq(np.stack([b[ok] * b[ok], b[ok], np.ones_like(b[ok])], 1), p[ok],
                             rcond=None)[0]
        object.__setattr__(self, "area_coef", tuple(float(c) for c in ca))
        object.__setattr__(self, "power_coef", tuple(float(c) for c in cp))

    def fixed_area_um2(self, bw, ba):
        """Area of a fixed ``bw x ba`` PE at 45 nm (um^2); broadcasts over arrays."""
        a2, a1, a0 = self.area_coef
        return a2 * np.multiply(bw, ba) + a1 * np.add(bw, ba) / 2 + a0

    def fixed_power_uw(self, bw, ba):
        """Power of a fixed ``bw x ba`` PE at 45 nm and ``clock_mhz`` (uW)."""
        p2, p1, p0 = self.power_coef
        return p2 * np.multiply(bw, ba) + p1 * np.add(bw, ba) / 2 + p0

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

    def sram_bank(self, bank_bytes: float, read_write_port: bool = False
                  ) -> tuple[float, float, float]:
        """One SRAM bank at 45 nm: read and write energy (pJ/bit) and area (mm^2).

        Log-log interpolation of the artifact's CACTI points (32-bit words) of the same
        port type, extrapolated with the end slopes; above the largest CACTI bank the
        energy follows Horowitz's figures (joined at 32 KiB) and the area the last slope.
        """
        if bank_bytes <= 0:
            raise ValueError(f"SRAM bank size must be positive (bytes), not {bank_bytes}")
        pts = sorted(r for r in self.cacti if bool(r[1]) == read_write_port)
        x = math.log(bank_bytes)

        def loglog(xs, ys):
            xs, ys = np.log(xs), np.log(ys)
            i = int(np.clip(np.searchsorted(xs, x) - 1, 0, len(xs) - 2))
            return float(math.exp(ys[i] + (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
                                  * (x - xs[i])))

        size = [r[0] for r in pts]
        area = loglog(size, [r[2] for r in pts])
        rd = [r[3] * 1e3 / 32 for r in pts]
        wr = [r[4] * 1e3 / 32 for r in pts]
        if bank_bytes > size[-1]:
            # Horowitz above CACTI's range, scaled to meet CACTI at its largest bank.
            hk = [s[0] * 1024 for s in self.sram if s[0] * 1024 > size[-1]]
            he = [s[1] / 64 for s in self.sram if s[0] * 1024 > size[-1]]
            return (loglog([size[-1], *hk], [rd[-1], *he]),
                    loglog([size[-1], *hk], [wr[-1], *[e * wr[-1] / rd[-1] for e in he]]),
                    area)
        return loglog(size, rd), loglog(size, wr), area

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
        fu_dynamic_uw=float(d["bitfusion_array"]["dynamic_power_uw"])
        / d["bitfusion_array"]["units"],
        cacti=tuple((float(r["bytes"]), int(r["rw"]), float(r["area_mm2"]),
                     float(r["read_nj"]), float(r["write_nj"])) for r in d["sram_cacti"]),
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
    sram_mm2_per_kib : float, optional
        SRAM macro area at 45 nm (mm^2 per KiB); default: CACTI per bank
        (:meth:`PeTable.sram_bank`).
    """

    node_nm: float = 45.0
    vdd_v: float = 0.9
    clock_mhz: float = 500.0
    sram_mm2_per_kib: float | None = None

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
        Read energy at the accelerator's node (pJ/bit).
    area_mm2 : float
        Area at the accelerator's node (mm^2), per PE for ``local``.
    banks : int
        Independent banks (energy and area are those of ``size_bytes / banks`` banks).
    write_pj_per_bit : float, optional
        Write (fill) energy (pJ/bit); default the read energy.
    """

    name: str
    size_bytes: int
    bandwidth_bits_per_cycle: float
    energy_pj_per_bit: float
    area_mm2: float
    banks: int = 1
    write_pj_per_bit: float | None = None

    @property
    def write_energy_pj_per_bit(self) -> float:
        """Write (fill) energy (pJ/bit)."""
        return self.energy_pj_per_bit if self.write_pj_per_bit is None else \
            self.write_pj_per_bit


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
        ``bitserial``), ``cols`` output channels (groups of a grouped convolution are
        packed side by side across ``cols``).
    min_bits, max_bits : int
        Supported operand widths (bits).
    accumulator_bits : int
        Partial-sum width (bits).
    technology : Technology
    memory : tuple of MemoryLevel
        ``dram, weight_buffer, input_buffer, output_buffer`` and optionally ``local``.
    lanes : int
        ``bitserial``: 1-bit products per unit per cycle; ``bitfusion``: BitBricks per unit.
    serial : str
        ``bitserial``: ``both`` or ``activation``.
    precisions, speedup : tuple of int
        ``systolic``: supported precisions (bits) and MACs per PE-cycle at each;
        ``bitfusion``: the fusion modes (bits, powers of two).
    conv_mapping : str
        ``bitfusion`` and ``systolic``: how a convolution's reduction meets the ``rows``:
        ``im2col`` (all ``Cin/G * kh * kw`` products in one reduction), ``per_tap`` (one
        kernel tap at a time, ``Cin/G`` per reduction; the artifact's default), or
        ``artifact`` (``im2col`` for the first layer, which reads the network input, and
        ``per_tap`` for the others, as the artifact's simulator does).
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
    conv_mapping: str = "im2col"

    def level(self, name: str) -> MemoryLevel:
        """The memory level called ``name``."""
        for m in self.memory:
            if m.name == name:
                return m
        raise KeyError(f"memory level must be one of {[m.name for m in self.memory]}, "
                       f"not {name!r}")

    def has_level(self, name: str) -> bool:
        """Whether the hierarchy has a level called ``name``."""
        return any(m.name == name for m in self.memory)

    @property
    def units(self) -> int:
        """Array units (Fusion Units, dot-product units or PEs)."""
        return self.rows * self.cols

    def unit_area_um2(self) -> float:
        """Area of one array unit at 45 nm (um^2)."""
        t = pe_table()
        if self.kind == "bitfusion":
            return t.fusible(8)[0]   # 8->2 units; 16-bit operands run temporally
        if self.kind == "systolic":
            p = max(self.precisions)
            return float(t.fixed_area_um2(p, p))
        # Bit-serial unit, calibrated on the Fusion Unit (no published bit-serial
        # synthesis): a 2x2 BitBrick forms 4 one-bit products, so a lane costs 1/4 of a
        # BitBrick (1733 um^2 / 16 / 4) and ``b_par`` parallel weight bits multiply it.
        bpar = 1 if self.serial == "both" else self.max_bits
        return t.fusible(8)[0] / 64 * self.lanes * bpar

    def area_mm2(self) -> dict[str, float]:
        """Area by component at the accelerator's node (mm^2): ``array``, ``sram``, ``total``."""
        array = self.units * self.unit_area_um2() * 1e-6 * self.technology.area_scale
        sram = sum(m.area_mm2 * (self.units if m.name == "local" else 1) for m in self.memory)
        return {"array": array, "sram": sram, "total": array + sram}

    def mode_bits(self, b):
        """``bitfusion``: the power-of-two fusion mode a ``b``-bit operand runs in (bits)."""
        modes = np.asarray(self.precisions)
        idx = np.minimum(np.searchsorted(modes, np.asarray(b)), len(modes) - 1)
        return modes[idx]

    def bricks(self, bw, ba):
        """``bitfusion``: BitBrick-cycles of one ``bw x ba`` MAC (16 per unit-cycle)."""
        return (self.mode_bits(bw) // 2) * (self.mode_bits(ba) // 2)

    def unit_cycle_energy_pj(self) -> float:
        """``bitfusion``: dynamic energy of one Fusion Unit for one cycle at the
        accelerator's node (pJ), the artifact's ``core_dynamic_energy / units``."""
        t = pe_table()
        return t.fu_dynamic_uw / t.clock_mhz * self.technology.energy_scale

    def lane_cycle_energy_pj(self) -> float:
        """``bitserial``: energy of one 1-bit lane product (pJ): 1/4 of a BitBrick-cycle
        of the Fusion Unit's dynamic power (calibration; see :meth:`unit_area_um2`)."""
        return self.unit_cycle_energy_pj() / 64

    def mac_energy_pj(self, bw, ba):
        """Compute energy of one ``bw x ba`` MAC at full array utilization, at the
        accelerator's node (pJ); broadcasts."""
        t = pe_table()
        bw = np.asarray(bw)
        ba = np.asarray(ba)
        if self.kind == "bitfusion":
            return self.unit_cycle_energy_pj() * self.bricks(bw, ba) / self.lanes
        if self.kind == "systolic":
            # One PE of the widest precision, splitting into `speedup` narrower MACs.
            _, s = self.precision(bw, ba)
            p = max(self.precisions)
            return t.fixed_energy_pj(p, p) / s * self.technology.energy_scale
        bpar = 1 if self.serial == "both" else self.max_bits
        return self.lane_cycle_energy_pj() * bpar * self.serial_cycles(bw, ba)

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
        """Bits a weight and an activation occupy in memory: padded to the precision on
        ``systolic``, to the fusion mode on ``bitfusion``."""
        if self.kind == "systolic":
            p, _ = self.precision(bw, ba)
            return p, p
        if self.kind == "bitfusion":
            return self.mode_bits(bw), self.mode_bits(ba)
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
_OPTIONAL_MEMS = ("local",)
_CONV_MAPPINGS = ("im2col", "per_tap", "artifact")


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
               "min_bits", "max_bits", "accumulator_bits", "technology", "memory",
               "conv_mapping"}
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
    mm2 = tech_d.get("sram_mm2_per_kib")
    tech = Technology(
        node_nm=float(_num(tech_d, "node_nm", tw, default=45.0)),
        vdd_v=float(_num(tech_d, "vdd_v", tw, default=0.9)),
        clock_mhz=float(_num(tech_d, "clock_mhz", tw, default=500.0)),
        sram_mm2_per_kib=None if mm2 is None else float(_num(tech_d, "sram_mm2_per_kib", tw)),
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
        if m is None and name in _OPTIONAL_MEMS:
            continue
        if not isinstance(m, Mapping):
            raise ValueError(f"{w}: must be a mapping, not {m!r}")
        banks = 1
        write = None
        if name == "dram":
            size = 0
            e = float(_num(m, "energy_pj_per_bit", w))
            area = 0.0
        else:
            size = _num(m, "size_bytes", w, integer=True)
            banks = _num(m, "banks", w, integer=True, default=1)
            # The output buffer reads and writes partial sums through one port (artifact).
            rd, wr, bank_area = t.sram_bank(size / banks, read_write_port=(
                name == "output_buffer"))
            if m.get("energy_pj_per_bit") is not None:
                e = float(_num(m, "energy_pj_per_bit", w))
            else:
                e, write = rd * tech.energy_scale, wr * tech.energy_scale
            if tech.sram_mm2_per_kib is not None:
                area = size / 1024 * tech.sram_mm2_per_kib * tech.area_scale
            else:
                area = bank_area * banks * tech.area_scale
            if name == "local":
                area /= banks   # per unit
        bw = float(_num(m, "bandwidth_bits_per_cycle", w, default=math.inf))
        extra = sorted(set(m) - {"size_bytes", "banks", "energy_pj_per_bit",
                                 "bandwidth_bits_per_cycle"})
        if extra:
            raise ValueError(f"{w}.{extra[0]}: unknown key; allowed keys: banks, "
                             "bandwidth_bits_per_cycle, energy_pj_per_bit, size_bytes")
        levels.append(MemoryLevel(name, int(size), bw, e, area, int(banks), write))
    rows = _num(d, "rows", source, integer=True)
    cols = _num(d, "cols", source, integer=True)
    min_bits = _num(d, "min_bits", source, integer=True, default=1)
    max_bits = _num(d, "max_bits", source, integer=True, default=8)
    if min_bits > max_bits:
        raise ValueError(f"{source}: min_bits ({min_bits}) must not exceed max_bits "
                         f"({max_bits})")
    acc = _num(d, "accumulator_bits", source, integer=True, default=32)
    kw: dict[str, Any] = {}
    mapping = d.get("conv_mapping", "artifact" if kind == "bitfusion" else "im2col")
    if mapping not in _CONV_MAPPINGS or (kind == "bitserial" and "conv_mapping" in d):
        ok = "not used on bitserial" if kind == "bitserial" else \
            "must be one of " + ", ".join(_CONV_MAPPINGS)
        raise ValueError(f"{source}.conv_mapping: {ok}, not {mapping!r}")
    if kind != "bitserial":
        kw["conv_mapping"] = mapping
    if kind == "bitfusion":
        kw["lanes"] = 16
        if min_bits < 2 or max_bits > 16:
            raise ValueError(f"{source}: Bit Fusion fuses 2-bit BitBricks into 2, 4, 8 and "
                             f"16-bit modes: min_bits must be >= 2 and max_bits <= 16, not "
                             f"{min_bits} and {max_bits}")
        kw["precisions"] = tuple(m for m in (2, 4, 8, 16) if m < max_bits * 2)
        kw["speedup"] = tuple(1 for _ in kw["precisions"])
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
