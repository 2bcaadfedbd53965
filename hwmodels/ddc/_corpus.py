"""Calibration of the DDC cost model against yosys: synthesize stage variants, fit LUTs."""

from __future__ import annotations

import json

import numpy as np

from ._cost import _DATA, cic_features, nco_features

__all__ = ["calibrate", "synthesize_stages"]


def synthesize_stages(spec, *, stages=("nco_mixer", "cic", "halfband", "cfir")) -> dict:
    """yosys ``synth_xilinx`` of each stage alone, one path (I); returns SynthResults."""
    from ...rtl.ddc import CicDecimator, FrontEnd, component_verilog
    from ...rtl.fir import fir_verilog
    from ..synth import synthesize

    out = {}
    for name in stages:
        if name == "nco_mixer":
            v = component_verilog(FrontEnd(spec), "nco_mixer")
        elif name == "cic":
            v = component_verilog(CicDecimator(spec.cic), "cic")
        elif name == "halfband" and spec.halfband is not None:
            v = fir_verilog(spec.halfband, "halfband")
        elif name == "cfir" and spec.cfir is not None:
            v = fir_verilog(spec.cfir, "cfir")
        else:
            continue
        out[name] = synthesize(v, name)
    return out


def calibrate(specs, path=_DATA, synth=None) -> dict:
    """Fit the NCO/mixer and CIC LUT coefficients to yosys over ``specs`` (DdcSpecs).

    Least squares (the front end on log LUTs) on the features of :func:`nco_features` and :func:`cic_features`; writes
    the coefficients and the fit's residuals to ``path`` (JSON).
    """
    rows = {"nco": [], "cic": []}
    for k, s in enumerate(specs):
        if synth is None:
            r = synthesize_stages(s, stages=("nco_mixer", "cic"))
            nl, cl = r["nco_mixer"].luts, r["cic"].luts
        else:  # refit on earlier yosys figures: (nco_mixer LUTs, cic LUTs) per spec
            nl, cl = synth[k]
        rows["nco"].append((nco_features(s), nl))
        rows["cic"].append((cic_features(s.cic), cl))
    coef, resid = {}, {}
    for k, data in rows.items():
        X = np.array([f for f, _ in data])
        y = np.array([v for _, v in data], dtype=float)
        # the front end is fitted in the log domain (LUTs = exp(features . coef))
        t = np.log(y) if k == "nco" else y
        c, *_ = np.linalg.lstsq(X, t, rcond=None)
        coef[k] = [float(v) for v in c]
        pred = np.exp(X @ c) if k == "nco" else X @ c
        resid[k] = {"synth": y.tolist(), "fit": pred.round(1).tolist(),
                    "mean_abs_error_percent": float(np.mean(np.abs(pred - y) / y) * 100)}
    data = {"coef": coef, "fit": resid, "source": "yosys synth_xilinx, hwmodels.ddc.calibrate"}
    if path.exists():  # keep the FIR-stage factor (fitted separately)
        old = json.loads(path.read_text())
        for k in ("fir_scale", "fir_scale_source"):
            if k in old:
                data[k] = old[k]
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data
