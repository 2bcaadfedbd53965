"""DDC cost model: LUT/FF/DSP estimates per stage of a :class:`~bitsmith.sim.ddc.DdcSpec`.

Stages: ``nco_mixer`` (phase accumulator, optional LFSR dither, two quarter-wave tables, the
two mixers' rounding and saturation; the multipliers go to DSP48E1s), ``cic`` (I and Q),
``halfband`` and ``cfir`` (I and Q, the calibrated FIR model of :mod:`bitsmith.hwmodels.fir`
times ``fir_scale``: that model, fitted on the FIR flow's filters, underestimates these
stages by 20-24 %; the factor is the mean ratio over four DDC FIR stages, so in-sample).
LUT counts are linear in structural features (below) with coefficients fitted to yosys
``synth_xilinx`` figures (``data/ddc_calibration.json``, written by
:func:`calibrate`); FFs are counted from the registers the generator builds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from ...sim.ddc._chain import DdcSpec
from ...sim.ddc._cic import CicSpec
from ..fir import fir_cost

__all__ = ["DdcCost", "StageCost", "cic_cost", "cic_features", "ddc_cost", "dsp_tiles",
           "fir_stage_cost", "nco_features", "nco_mixer_cost"]

_DATA = Path(__file__).parent / "data" / "ddc_calibration.json"
#: used before a calibration exists (the fit of data/ddc_calibration.json, rounded)
_DEFAULT = {"nco": [-0.73, 0.527, 0.92, -0.133], "cic": [4.0, 1.0, 1.0]}


@dataclass(frozen=True)
class StageCost:
    """Estimated cost of one stage (both I and Q where the stage is doubled)."""

    luts: int
    ffs: int
    dsps: int


@dataclass(frozen=True)
class DdcCost:
    """Estimated cost of the chain: per stage and in total (xc7, before place and route)."""

    stages: dict = field(compare=False)
    luts: int = 0
    ffs: int = 0
    dsps: int = 0


def dsp_tiles(a: int, b: int) -> int:
    """DSP48E1s of a signed a x b product (25x18 fits one; larger ones tile)."""
    a, b = max(a, b), min(a, b)
    if a <= 25 and b <= 18:
        return 1
    return math.ceil(a / 24) * math.ceil(b / 17)


def nco_features(spec: DdcSpec) -> list[float]:
    """[1, addr_bits, ln amp_bits, dither] of the front end: its LUTs are
    ``exp(features . coef)``. The two tables dominate, and yosys compresses a sine table's
    smooth high bits, so LUTs grow as ~2^(0.53 addr) amp^0.9 rather than as 2^addr * amp
    (fit over 9 yosys runs: 11 % mean error)."""
    n = spec.nco
    return [1.0, float(n.addr_bits), math.log(n.amp_bits), 1.0 if n.dither_bits else 0.0]


def cic_features(spec: CicSpec) -> list[float]:
    """[1, adder/subtractor bits, counter bits] of one CIC path."""
    return [1.0, float(sum(spec.widths)), float(max(1, (spec.decimation - 1).bit_length()))]


@cache
def _calibration() -> dict:
    if _DATA.exists():
        return json.loads(_DATA.read_text())
    return {"coef": _DEFAULT, "source": "uncalibrated defaults"}


def _lin(coef, feats) -> float:
    return float(np.dot(coef, feats))


def nco_mixer_cost(spec: DdcSpec) -> StageCost:
    """NCO (phase accumulator, dither, two tables) and the two mixers."""
    cal = _calibration()["coef"]
    n = spec.nco
    ff = n.phase_bits + (32 if n.dither_bits else 0) + spec.adc_bits + 3 * n.amp_bits \
        + 2 * spec.mixer_bits + 2
    return StageCost(int(round(math.exp(_lin(cal["nco"], nco_features(spec))))), ff,
                     2 * dsp_tiles(spec.adc_bits, n.amp_bits))


@cache
def cic_cost(c: CicSpec) -> StageCost:
    """Both CIC paths."""
    cal = _calibration()["coef"]
    N = c.n_stages
    ff = sum(c.widths[:N]) + sum(w * (1 + c.diff_delay) for w in c.widths[N:]) \
        + c.output_bits + (c.decimation - 1).bit_length() + N + 2
    return StageCost(2 * int(round(_lin(cal["cic"], cic_features(c)))), 2 * ff, 0)


def fir_stage_cost(f) -> StageCost:
    """Both paths of a FIR stage (the FIR model of :mod:`bitsmith.hwmodels.fir`), plus the
    decimator's toggle."""
    fc = fir_cost(f)
    scale = _calibration().get("fir_scale", 1.0)
    return StageCost(2 * int(round(scale * fc.luts)) + 2, 2 * fc.ffs + 1, 2 * fc.dsps)


def ddc_cost(spec: DdcSpec) -> DdcCost:
    """Estimated LUTs, FFs and DSP48E1s of :class:`~bitsmith.rtl.ddc.DdcChain` per stage."""
    stages = {"nco_mixer": nco_mixer_cost(spec), "cic": cic_cost(spec.cic)}
    for name, f in (("halfband", spec.halfband), ("cfir", spec.cfir)):
        if f is not None:
            stages[name] = fir_stage_cost(f)
    return DdcCost(stages, sum(s.luts for s in stages.values()),
                   sum(s.ffs for s in stages.values()), sum(s.dsps for s in stages.values()))
