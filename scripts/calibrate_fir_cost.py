"""Calibrate the FIR LUT model against yosys: corpus -> synthesis -> least squares -> JSON.

Re-runnable: the corpus is generated with a fixed seed (``bitsmith.hwmodels._fircorpus``),
each design's synthesis result is cached by a hash of its Verilog text, and the fit and the
corpus rows are written to ``hwmodels/data/fir_calibration.json`` and
``hwmodels/data/fir_calibration_corpus.csv``.

    .venv/bin/python scripts/calibrate_fir_cost.py [--n 28] [--seed 0] [--cached-only]
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np
from bitsmith.hwmodels._fircorpus import (
    DEFAULT_CACHE,
    random_spec,
    spec_to_row,
    synthesize_spec,
    write_csv,
)
from bitsmith.hwmodels._firstruct import LUT_FEATURES
from bitsmith.hwmodels.fir import fir_features
from scipy.optimize import nnls

DATA = Path(__file__).resolve().parent.parent / "hwmodels" / "data"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=28, help="corpus size (designs)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--target", default="xc7", choices=["xc7"])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="synthesis cache dir")
    ap.add_argument(
        "--cached-only", action="store_true", help="fit on the designs already synthesized"
    )
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    specs = [random_spec(rng) for _ in range(args.n)]
    rows, feats, y = [], [], []
    tool = None
    for i, spec in enumerate(specs):
        if args.cached_only:
            from bitsmith.hwmodels._fircorpus import _cache_lookup

            res = _cache_lookup(spec, args.target, args.cache)
            if res is None:
                continue
            cached = True
        else:
            t0 = time.perf_counter()
            res, cached = synthesize_spec(spec, args.target, args.cache)
            print(
                f"[{i + 1}/{args.n}] L={spec.taps} wmax={spec.max_coef_width} "
                f"{res.luts} LUTs {'(cached)' if cached else f'{time.perf_counter() - t0:.1f} s'}",
                flush=True,
            )
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
        raise SystemExit(f"need at least {len(LUT_FEATURES) + 2} synthesized designs, have {len(rows)}")
    X = np.array(feats, dtype=float)
    y = np.array(y, dtype=float)
    # relative least squares (each design weighs by 1/LUTs): the target is a % error, and
    # an unweighted fit would be decided by the few largest designs
    w = 1.0 / np.maximum(y, 1.0)
    A = np.column_stack([X, np.ones(len(y))]) * w[:, None]
    theta, _ = nnls(A, y * w)
    pred = np.column_stack([X, np.ones(len(y))]) @ theta
    err = 100 * (pred - y) / np.maximum(y, 1)
    ff_model = np.array([r["ff_bits"] for r in rows], float)
    ff_y = np.array([r["ffs"] for r in rows], float)
    ff_err = 100 * (ff_model - ff_y) / np.maximum(ff_y, 1)
    dsp_exact = all(r["dsp_model"] == r["dsps"] for r in rows)
    print("features:", ", ".join(f"{k}={v:.3f}" for k, v in zip(LUT_FEATURES, theta, strict=False)),
          f"intercept={theta[-1]:.1f}")
    print(f"calibration fit on {len(rows)} designs: LUT mean |err| {np.mean(np.abs(err)):.1f} %, "
          f"max {np.max(np.abs(err)):.1f} %; FF mean |err| {np.mean(np.abs(ff_err)):.1f} %; "
          f"DSP counts exact: {dsp_exact}")
    out = {
        "yosys": tool,
        "flow": "synth_xilinx -flatten [-nodsp for CSD designs]; stat -json",
        "date": datetime.datetime.now(tz=datetime.UTC).date().isoformat(),
        "seed": args.seed,
        "targets": {
            args.target: {
                "features": list(LUT_FEATURES),
                "coef": [float(v) for v in theta[:-1]],
                "intercept": float(theta[-1]),
                "ff_scale": 1.0,
                "n_designs": len(rows),
                "fit_mean_abs_err_pct": float(np.mean(np.abs(err))),
                "fit_max_abs_err_pct": float(np.max(np.abs(err))),
            }
        },
        "corpus": [
            {k: r[k] for k in ("index", "taps", "luts", "ffs", "dsps", "carries", "yosys_s")}
            | {"luts_fit": int(round(p))}
            for r, p in zip(rows, pred, strict=True)
        ],
    }
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "fir_calibration.json").write_text(json.dumps(out, indent=1) + "\n")
    write_csv(DATA / "fir_calibration_corpus.csv", rows)
    print(f"wrote {DATA / 'fir_calibration.json'} and fir_calibration_corpus.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
