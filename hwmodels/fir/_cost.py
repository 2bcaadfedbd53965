"""FIR hardware cost model calibrated against yosys (LUTs, FFs, DSP48E1, CARRY4, energy).

The model walks the datapath ``bitsmith.rtl.FirFilter`` builds for a :class:`FirSpec`
(:mod:`._struct`: exact-width nodes, CSD shift-add multipliers, pre-adders, adder tree or
transposed chain, wrap limit, output rounding and saturation, plus yosys' ``$macc``
merging, multiplier sharing and DSP48E1 post-adder packing) and counts adder bits per kind.
LUTs are a linear function of those counts whose few coefficients were fitted to yosys 0.70
``synth_xilinx -flatten`` results (``scripts/calibrate_fir_cost.py`` writes
``data/fir_calibration.json``). Flip-flops are counted directly (register bits that are not
constant), DSP48E1 blocks by yosys' 25x18 splitting rule, CARRY4 as ceil(bits/4) per adder.
Measured accuracy (held-out, 40 designs): LUTs mean |error| 7.8 %, max 28.8 %; FFs mean
2.8 %; DSP48E1 exact 40/40 -- details and caveats in ``hwmodels/README.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from ...sim.fir._spec import FirForm, FirSpec, Multiplier
from ._struct import LUT_FEATURES, structure

__all__ = ["FirCost", "calibrated_targets", "fir_cost", "fir_features", "fir_luts_batch", "load_calibration"]

#: Targets the model knows; :func:`calibrated_targets` says which have a fit.
TARGETS = ("xc7", "ice40")

# Horowitz, ISSCC 2014, 45 nm, 0.9 V (HARDWARE_FACTS "Energy and area").
_ADD_PJ_8, _ADD_PJ_32 = 0.03, 0.1
_MUL_PJ_8, _MUL_PJ_32 = 0.2, 3.1
#: add energy ~ 0.03 pJ * (b/8)**ADD_EXP; exponent through the 8 b and 32 b points
ADD_EXP = math.log(_ADD_PJ_32 / _ADD_PJ_8) / math.log(4)
#: multiply energy ~ 0.2 pJ * (b1*b2/64)**MUL_EXP; exponent through 8x8 and 32x32
MUL_EXP = math.log(_MUL_PJ_32 / _MUL_PJ_8) / math.log(16)


@dataclass(frozen=True)
class FirCost:
    """Estimated cost of one FIR (before place and route).

    Attributes
    ----------
    luts : int
        Logic LUTs (LUT6-class on xc7).
    ffs : int
        Flip-flops.
    dsps : int
        DSP48E1 blocks (0 for CSD multipliers).
    carries : int
        CARRY4 cells (4 adder bits each).
    energy_pj_per_sample : float
        Dynamic arithmetic energy per output sample (pJ, 45 nm Horowitz figures: adds
        0.03 pJ * (b/8)**0.868, multiplies 0.2 pJ * (b1*b2/64)**0.988; registers and
        wiring not included).
    breakdown : dict
        LUTs per part: ``multipliers``, ``adder_tree``, ``pre_adders``, ``output_rounding``
        (rounding and saturation), ``registers`` (LUTs 0: registers are FFs) and
        ``ffs_registers`` (FFs).
    target : str
        Target family (``"xc7"``).
    """

    luts: int
    ffs: int
    dsps: int
    carries: int
    energy_pj_per_sample: float
    breakdown: dict = field(compare=False)
    target: str = "xc7"


@cache
def _calibration_file() -> dict:
    path = resources.files("bitsmith.hwmodels.fir") / "data" / "fir_calibration.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise RuntimeError(
            "the FIR cost model needs data/fir_calibration.json: run "
            "scripts/calibrate_fir_cost.py"
        ) from exc


def calibrated_targets() -> tuple[str, ...]:
    """Targets with a fit in ``data/fir_calibration.json``."""
    return tuple(t for t in TARGETS if t in _calibration_file().get("targets", {}))


def _check_target(target: str) -> None:
    ok = calibrated_targets()
    if target not in ok:
        raise ValueError(f"target must be one of {ok} (the calibrated targets), not {target!r}")


@cache
def load_calibration(target: str = "xc7") -> dict:
    """The fitted parameters for ``target`` from ``data/fir_calibration.json``.

    Returns
    -------
    dict
        ``coef`` (LUTs per unit of each :data:`LUT_FEATURES` entry), ``intercept`` (LUTs),
        ``ff_scale``, plus the fit's provenance (yosys version, date, corpus size, errors).
    """
    _check_target(target)
    cal = _calibration_file()["targets"][target]
    if tuple(cal.get("features", ())) != LUT_FEATURES:
        raise RuntimeError(
            f"the {target} calibration must fit the features {LUT_FEATURES}, but it has "
            f"{tuple(cal.get('features', ()))}: rerun scripts/calibrate_fir_cost.py "
            f"--target {target}"
        )
    return cal


def _spec_args(spec: FirSpec) -> tuple:
    shift = spec.acc_format.frac_bits - spec.output_format.frac_bits
    return (
        spec.input_format.word_bits,
        shift,
        spec.output_format.word_bits,
        spec.rounding.value,
        spec.overflow.value,
        spec.form is FirForm.DIRECT,
        spec.fold_symmetric,
        spec.multiplier is Multiplier.DSP,
        spec.pipeline,
    )


def fir_features(spec: FirSpec) -> dict:
    """Structural counts of ``spec``'s datapath (see :func:`._struct.structure`)."""
    return structure(spec.coefficients, *_spec_args(spec))


def _luts(f: dict, cal: dict) -> int:
    v = cal["intercept"] + sum(c * f[k] for k, c in zip(LUT_FEATURES, cal["coef"], strict=True))
    return max(0, int(round(v)))


def fir_cost(spec: FirSpec, target: str = "xc7") -> FirCost:
    """Estimate LUTs, FFs, DSPs, CARRY4s and energy of the FIR that ``fir_verilog`` emits.

    Parameters
    ----------
    spec : FirSpec
        The filter.
    target : {"xc7"}
        Target family (Xilinx 7-series, yosys ``synth_xilinx`` figures).

    Returns
    -------
    FirCost
    """
    _check_target(target)
    cal = load_calibration(target)
    f = fir_features(spec)
    coef = dict(zip(LUT_FEATURES, cal["coef"], strict=True))
    # LUTs per part; a multi-operand sum that yosys merges across parts (e.g. an
    # unpipelined direct form's products and tree) is booked where it is materialized
    breakdown = dict.fromkeys(("multipliers", "adder_tree", "pre_adders", "output_rounding"), 0.0)
    for part, pf in f["parts"].items():
        breakdown[part] = round(sum(coef[k] * pf[k] for k in LUT_FEATURES), 1)
    breakdown["fixed"] = cal["intercept"]
    breakdown["registers"] = 0
    breakdown["ffs_registers"] = f["ff_bits"]
    energy = sum(_ADD_PJ_8 * (w / 8) ** ADD_EXP for w in f["adder_widths"] if w > 0)
    if spec.multiplier is Multiplier.DSP:
        energy += sum(_MUL_PJ_8 * (a * b / 64) ** MUL_EXP for a, b in f["products"])
    carries = sum(math.ceil(w / 4) for w in f["adder_widths"] if w > 0)
    return FirCost(
        luts=_luts(f, cal),
        ffs=int(round(cal.get("ff_scale", 1.0) * f["ff_bits"])),
        dsps=f["dsp_blocks"],
        carries=carries,
        energy_pj_per_sample=energy,
        breakdown=breakdown,
        target=target,
    )


def fir_luts_batch(coefficients, template: FirSpec, target: str = "xc7") -> np.ndarray:
    """LUT estimates of many coefficient sets sharing ``template``'s structure.

    For a bit-allocation search: every row is a candidate quantization of the same filter
    (same tap count, input/output formats, form, folding, multipliers, pipeline); only the
    raw integer coefficients differ. Each row gives exactly ``fir_cost(spec).luts`` of the
    spec with that row as coefficients (per-multiplier counts are memoized on
    (constant, width), so repeated constants across candidates cost nothing).

    Parameters
    ----------
    coefficients : array_like of int, shape (n, L)
        Raw integer coefficients, on ``template.coef_frac`` 's LSB.
    template : FirSpec
        Supplies everything but the coefficients.
    target : {"xc7"}

    Returns
    -------
    ndarray of int64, shape (n,)
        LUTs per candidate.
    """
    _check_target(target)
    cal = load_calibration(target)
    c = np.asarray(coefficients)
    if c.ndim != 2 or c.shape[1] != template.taps:
        raise ValueError(
            f"coefficients must have shape (n, {template.taps}) for the template's "
            f"{template.taps} taps, not {c.shape}"
        )
    xw, _, wo, rounding, overflow, direct, fold, dsp, pipeline = _spec_args(template)
    out_frac = template.output_format.frac_bits
    frac = template.input_format.frac_bits + template.coef_frac
    out = np.empty(len(c), dtype=np.int64)
    for i, row in enumerate(c.tolist()):
        coefs = tuple(row)
        if not any(coefs):
            raise ValueError(f"candidate {i}: at least one coefficient must be nonzero")
        f = structure(coefs, xw, frac - out_frac, wo, rounding, overflow, direct,
                      fold, dsp, pipeline)
        out[i] = _luts(f, cal)
    return out
