"""Calibrate the FIR LUT model against yosys: corpus -> synthesis -> least squares -> JSON.

Re-runnable: the corpus is a fixed-seed stratified set of generated FIRs
(:func:`bitsmith.hwmodels.fir._corpus.stratified_specs`: taps 7-127, coefficient widths
4-20, folded or not, DSP or CSD multipliers, direct or transposed, pipeline 0-2), each
design's synthesis result is cached by a hash of its Verilog text, and the fit and the
corpus rows are written to ``hwmodels/fir/data/fir_calibration.json`` (one entry per target;
fitting one target keeps the others) and ``hwmodels/fir/data/fir_calibration_<target>.csv``.
The JSON records a hash of the generator sources (``rtl/*.py``): the benchmark warns when
the generator changed after the fit.

    .venv/bin/python scripts/calibrate_fir_cost.py [--n 24] [--seed 0] [--target xc7]
        [--cached-only]
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from bitsmith.hwmodels.fir import fir_features
from bitsmith.hwmodels.fir._corpus import (
    DEFAULT_CACHE,
    corpus_results,
    fit_luts,
    generator_hash,
    spec_to_row,
    stratified_specs,
    write_csv,
)
from bitsmith.hwmodels.fir._struct import LUT_FEATURES

DATA = Path(__file__).resolve().parent.parent / "hwmodels" / "fir" / "data"
FLOWS = {
    "xc7": "synth_xilinx -flatten [-nodsp for CSD designs]; stat -json",
    "ice40": "synth_ice40 -flatten [-dsp for DSP designs]; stat -json",
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="corpus size (designs)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (the benchmark uses 1)")
    ap.add_argument("--target", default="xc7", choices=sorted(FLOWS))
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="synthesis cache dir")
    ap.add_argument(
        "--cached-only", action="store_true", help="fit on the designs already synthesized"
    )
    args = ap.parse_args(argv)

    specs = stratified_specs(args.seed, args.n)
    rows, feats, y = [], [], []
    tool = None
    def log(i, spec, res, seconds):
        print(
            f"[{i + 1}/{args.n}] L={spec.taps} wmax={spec.max_coef_width} "
            f"{res.luts} LUTs {'(cached)' if seconds is None else f'{seconds:.1f} s'}",
            flush=True,
        )

    for i, spec, res in corpus_results(specs, args.target, args.cache, args.cached_only, log):
        tool = res.tool
        f = fir_features(spec)
        feats.append([f[k] for k in LUT_FEATURES])
        y.append(res.luts)
        rows.append(
            {
                "index": i,
                "taps": spec.taps,
                **{k: f[k] for k in LUT_FEATURES},
                "ff_bits": f["ff_bits"],
                "dsp_model": f["dsp_blocks"],
                "luts": res.luts,
                "ffs": res.ffs,
                "dsps": res.dsps,
                "carries": res.carries,
                "yosys_s": round(res.seconds, 2),
                **spec_to_row(spec),
            }
        )
    if len(rows) < len(LUT_FEATURES) + 2:
        raise SystemExit(
            f"the fit needs at least {len(LUT_FEATURES) + 2} synthesized designs, "
            f"have {len(rows)} (run without --cached-only to synthesize them)"
        )
    X = np.array(feats, dtype=float)
    y = np.array(y, dtype=float)
    theta = fit_luts(X, y)
    pred = np.column_stack([X, np.ones(len(y))]) @ theta
    err = 100 * (pred - y) / np.maximum(y, 1)
    ff_model = np.array([r["ff_bits"] for r in rows], float)
    ff_y = np.array([r["ffs"] for r in rows], float)
    ff_err = 100 * (ff_model - ff_y) / np.maximum(ff_y, 1)
    dsp_exact = sum(r["dsp_model"] == r["dsps"] for r in rows)
    print("LUTs per unit:", ", ".join(f"{k}={v:.3f}" for k, v in zip(LUT_FEATURES, theta,
                                                                     strict=False)),
          f"intercept={theta[-1]:.1f}")
    print(f"calibration fit on {len(rows)} designs ({args.target}): LUT mean |err| "
          f"{np.mean(np.abs(err)):.1f} %, max {np.max(np.abs(err)):.1f} %; FF mean |err| "
          f"{np.mean(np.abs(ff_err)):.1f} %; DSP counts exact {dsp_exact}/{len(rows)}")
    path = DATA / "fir_calibration.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    out.pop("corpus", None)  # (older single-target layout)
    out.setdefault("targets", {})
    out["targets"][args.target] = {
        "yosys": tool,
        "flow": FLOWS[args.target],
        "generator_sha256": generator_hash(),
        "date": datetime.datetime.now(tz=datetime.UTC).date().isoformat(),
        "seed": args.seed,
        "n_requested": args.n,
        "features": list(LUT_FEATURES),
        "coef": [float(v) for v in theta[:-1]],
        "intercept": float(theta[-1]),
        "ff_scale": 1.0,
        "n_designs": len(rows),
        "fit_mean_abs_err_pct": float(np.mean(np.abs(err))),
        "fit_max_abs_err_pct": float(np.max(np.abs(err))),
        "corpus_csv": f"fir_calibration_{args.target}.csv",
    }
    for k in ("yosys", "flow", "date", "seed"):
        out.pop(k, None)
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    for r, p in zip(rows, pred, strict=True):
        r["luts_fit"] = int(round(p))
    write_csv(DATA / f"fir_calibration_{args.target}.csv", rows)
    print(f"wrote {path} and fir_calibration_{args.target}.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
