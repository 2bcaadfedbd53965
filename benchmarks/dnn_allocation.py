"""Mixed-precision allocation of the digits CNN: accuracy vs budget per method over seeds,
Hessian-aware vs uniform 3-bit, multipoint at equal accelerator energy, Hutchinson vs
PyHessian, and (on a GPU) ResNet-18 sensitivity timing.

1. For each training seed (default 5): train or load the cached model, calibrate PTQ
   (8-bit activations, per-channel weights with clipping search), Hutchinson per-layer
   traces, HAWQ and MPQCO error tables, and allocate weight bits (2, 3, 4, 5, 6, 8) under a
   model-size budget of 2.5 / 3 / 3.5 / 4 average weight bits with every method; test
   accuracy of each allocation.
2. At the energy of uniform W3A8 on Bit Fusion: mixed precision (exact, energy budget) and
   multipoint 2-bit quantization with extra points up to the same energy.
3. PyHessian (if installed: the ``bench`` extra) per-layer traces on the same model, data
   and probes, next to ours, with the time ratio.
4. With CUDA: ResNet-18 (random weights) Hutchinson traces at batch 128, timed.

Run: .venv/bin/python benchmarks/dnn_allocation.py [--seeds 5] [--evals 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bitsmith.flows.dnn_alloc._mq import multipoint_eval
from bitsmith.flows.dnn_alloc._problem import MeasuredProblem, build_problem
from bitsmith.hwmodels.dnn import cost_table, load_accelerator, trace_model
from bitsmith.search import minimize
from bitsmith.sim import dnn
from bitsmith.sim.fixed import Rounding

W_BITS = [2, 3, 4, 5, 6, 8]
AVG_BITS = [2.5, 3.0, 3.5, 4.0]
ROUND = Rounding.ROUND_HALF_EVEN


def _acc(calib, data, x):
    wb = [c // 100 for c in x]
    ab = [c % 100 for c in x]
    return dnn.quantized_accuracy(dnn.quantize_network(calib, wb, ab, ROUND),
                                  data.x_test, data.y_test)


def one_seed(seed: int, evals: int, accel) -> dict:
    data = dnn.load_digits_split(0)
    model, _ = dnn.load_or_train("digits_cnn", data, seed, 40)
    calib = dnn.calibrate(model, data.x_calib, clip_search=True)
    tr = dnn.hutchinson_traces(model, data.x_calib, data.y_calib, rel_tol=0.1,
                               max_probes=256, seed=1000 + seed)
    layers = trace_model(model, torch.zeros(1, 1, 8, 8))
    table = cost_table(layers, accel, W_BITS, [8])
    params = np.array([la.params for la in layers])
    err = {"hawq": dnn.hawq_omega(calib, tr, W_BITS)[:, :, None],
           "mpqco": dnn.mpqco_omega(calib, data.x_calib, data.y_calib, W_BITS, [8])[0][:, :, None]}
    out = {"float": dnn.accuracy(model, data.x_test, data.y_test), "rows": {}}
    xs, ys = data.x_calib[:200], data.y_calib[:200]
    for B in AVG_BITS:
        budget = {"weight_bytes": float(params.sum()) * B / 8}
        res = {"weight_bytes": 0.125}
        probs = {k: build_problem(table, e, W_BITS, [8], budget, res) for k, e in err.items()}
        row = {}
        for k in ("hawq", "mpqco"):
            r = minimize(probs[k], "mckp_dp")
            row[f"mckp_dp[{k}]"] = _acc(calib, data, r.x)
        row["mckp_greedy[hawq]"] = _acc(calib, data, minimize(probs["hawq"], "mckp_greedy").x)
        row["ilp[hawq]"] = _acc(calib, data, minimize(probs["hawq"], "ilp").x)
        ub = max(b for b in W_BITS if b <= B)
        row["uniform"] = _acc(calib, data, [100 * ub + 8] * len(layers))
        meas = MeasuredProblem(probs["hawq"], calib, xs, ys, ROUND)
        g = max(1, evals // 10 - 1)
        for name, opts in (("gcpso", {"n_particles": 10, "n_iter": g}),
                           ("evolution", {"pop_size": 10, "n_gen": g}),
                           ("random", {"n_evals": evals, "batch_size": 10})):
            r = minimize(meas, name, seed=seed * 31 + int(2 * B), **opts)
            row[f"{name}[acc]"] = _acc(calib, data, r.x)
        out["rows"][B] = row
    # equal accelerator energy: uniform W3A8 vs mixed (energy budget) vs multipoint 2-bit
    e3 = float(table.flat("energy_uj")[:, W_BITS.index(3)].sum())
    lo = float(table.flat("energy_uj").min(axis=1).sum())
    res = {"energy_uj": (float(table.flat("energy_uj").max(axis=1).sum()) - lo) / 20000}
    pe = build_problem(table, err["hawq"], W_BITS, [8], {"energy_uj": e3}, res)
    mixed = minimize(pe, "mckp_dp")
    mp = multipoint_eval(model, data, layers, accel, 2, e3)
    out["energy"] = {"E_w3a8_uj": e3, "uniform_w3a8": _acc(calib, data, [308] * len(layers)),
                     "mixed_hawq": _acc(calib, data, mixed.x), "multipoint_2bit": mp["accuracy"],
                     "multipoint_energy_uj": mp["cost"], "points": mp["points"],
                     "channels": mp["channels"]}
    out["model"], out["data"], out["traces"] = model, data, tr
    return out


def _fmt(a):
    a = 100 * np.asarray(a)
    return f"{a.mean():6.2f} +- {a.std(ddof=1):4.2f} [{a.min():5.1f}, {a.max():5.1f}]"


def pyhessian_compare(model, data, n_probes: int = 64) -> None:
    try:
        from pyhessian import hessian
    except ImportError:
        print("\nPyHessian: not installed (pip install -e .[bench] or pip install --no-deps "
              "pyhessian); comparison skipped")
        return
    wl = dnn.weight_layers(model)
    x, y = torch.as_tensor(data.x_calib), torch.as_tensor(data.y_calib)
    crit = torch.nn.CrossEntropyLoss()
    # PyHessian draws its probes from torch's global generator, one layer at a time (only
    # that layer requires grad); we rebuild exactly those probes and hand them to ours.
    probes = [[None] * len(wl) for _ in range(n_probes)]
    for j, (_, m) in enumerate(wl):
        torch.manual_seed(500 + j)
        for i in range(n_probes):
            v = torch.randint_like(m.weight, high=2)
            v[v == 0] = -1
            probes[i][j] = v
    t0 = time.perf_counter()
    ours = dnn.hutchinson_traces(model, data.x_calib, data.y_calib, probes=probes)
    t_ours = time.perf_counter() - t0
    theirs = []
    t0 = time.perf_counter()
    for j, (_, m) in enumerate(wl):
        for p in model.parameters():
            p.requires_grad_(False)
        m.weight.requires_grad_(True)
        torch.manual_seed(500 + j)
        h = hessian(model, crit, data=(x, y), cuda=False)
        theirs.append(np.asarray(h.trace(maxIter=n_probes, tol=-1.0)))
        model.zero_grad(set_to_none=True)
    t_theirs = time.perf_counter() - t0
    for p in model.parameters():
        p.requires_grad_(True)
    print(f"\nPyHessian vs bitsmith, seed-0 model, {len(data.y_calib)} calibration images, "
          f"the same {n_probes} Rademacher probes per layer (95 % t intervals):")
    print(f"{'layer':8s} {'bitsmith':>20s} {'PyHessian':>20s}  agree")
    for j, (name, _) in enumerate(wl):
        s = theirs[j]
        half = 1.96 * s.std(ddof=1) / np.sqrt(len(s))
        ok = abs(ours.mean[j] - s.mean()) <= ours.halfwidth[j] + half
        print(f"{name:8s} {ours.mean[j]:10.4g} +- {ours.halfwidth[j]:7.3g} "
              f"{s.mean():10.4g} +- {half:7.3g}  {'yes' if ok else 'NO'}")
    print(f"time: bitsmith {t_ours:.2f} s (one Hessian-vector product per probe for all "
          f"layers), PyHessian {t_theirs:.2f} s ({len(wl)} runs, one per layer): ratio "
          f"{t_theirs / t_ours:.1f}x")
    print("(ours carries the cross-block terms v_l . H_lk v_k, zero-mean, so its intervals "
          "are wider per probe; PyHessian's per-layer runs see only H_ll)")


def gpu_timing() -> None:
    if not torch.cuda.is_available():
        print("\nResNet-18 sensitivity timing: no CUDA device here; skipped")
        return
    from bitsmith.hwmodels.dnn.models import resnet18

    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = resnet18(10).to(dev)
    # BatchNorm in eval mode (running statistics): the Hessian of a fixed function
    model.eval()
    x = torch.randn(128, 3, 224, 224, device=dev)
    y = torch.randint(0, 10, (128,), device=dev)
    params = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d,
                                                                   torch.nn.Linear))]
    for n_probes in (4, 16):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        est = dnn.hutchinson_traces(model, x.cpu().numpy(), y.cpu().numpy(), params=params,
                                    min_probes=n_probes, max_probes=n_probes, rel_tol=1e-9,
                                    device=dev)
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        print(f"ResNet-18 (random weights) on {torch.cuda.get_device_name()}: {len(params)} "
              f"layer traces from {est.n_probes} probes at batch 128 in {dt:.2f} s "
              f"({dt / est.n_probes:.3f} s per probe incl. the gradient graph)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--evals", type=int, default=60)
    ap.add_argument("--gpu-only", action="store_true", help="only the ResNet-18 timing")
    args = ap.parse_args()
    if args.gpu_only:
        gpu_timing()
        return
    torch.set_num_threads(1)
    accel = load_accelerator("bitfusion")
    t0 = time.perf_counter()
    runs = [one_seed(s, args.evals, accel) for s in range(args.seeds)]
    print(f"digits CNN, {args.seeds} training seeds, Bit Fusion, weights {W_BITS}, 8-bit "
          f"activations; {time.perf_counter() - t0:.0f} s")
    print("float test accuracy: " + _fmt([r["float"] for r in runs]))
    methods = list(runs[0]["rows"][AVG_BITS[0]])
    print("\ntest accuracy (%) under a model-size budget, mean +- std [min, max] over seeds")
    print(f"{'method':20s}" + "".join(f"{f'avg {B:g} bits':>32s}" for B in AVG_BITS))
    for m in methods:
        print(f"{m:20s}" + "".join(f"{_fmt([r['rows'][B][m] for r in runs]):>32s}"
                                  for B in AVG_BITS))
    u = np.array([r["rows"][3.0]["uniform"] for r in runs])
    for key, what in (("mckp_dp[hawq]", "HAWQ traces"), ("mckp_dp[mpqco]", "MPQCO Omega")):
        h = np.array([r["rows"][3.0][key] for r in runs])
        d = h - u
        spread = max(h.std(ddof=1), u.std(ddof=1))
        verdict = "beats" if d.mean() > spread else "does NOT beat"
        # paired t statistic of the per-seed differences (same model, same test images)
        t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d))) if d.std(ddof=1) > 0 else np.inf
        print(f"\nAt an average of 3 weight bits (parameter-weighted: the size of uniform "
              f"3-bit), Hessian-aware allocation (mckp_dp on {what}) {verdict} uniform 3-bit "
              f"by more than the spread: {100 * h.mean():.2f} % vs {100 * u.mean():.2f} %, "
              f"difference {100 * d.mean():+.2f} points (paired per seed: "
              f"{', '.join(f'{100 * v:+.1f}' for v in d)}; paired t = {t:.2f} over "
              f"{len(d)} seeds), spread (largest std over seeds) {100 * spread:.2f} points.")
    print("\nat the energy of uniform W3A8 on Bit Fusion (test accuracy %, mean +- std):")
    for k in ("uniform_w3a8", "mixed_hawq", "multipoint_2bit"):
        print(f"  {k:18s} {_fmt([r['energy'][k] for r in runs])}")
    e = runs[0]["energy"]
    print(f"  (seed 0: budget {e['E_w3a8_uj']:.4g} uJ, multipoint spends "
          f"{e['multipoint_energy_uj']:.4g} uJ, points per layer {e['points']} for channels "
          f"{e['channels']})")
    tr = runs[0]["traces"]
    print(f"\nHutchinson (seed 0): {tr.n_probes} probes, converged {tr.converged} "
          f"(not converged at rel_tol {tr.rel_tol:g}: {', '.join(tr.unconverged) or 'none'}): "
          + ", ".join(f"{n} {m:.3g}+-{hw:.2g}" for n, m, hw in
                      zip(tr.names, tr.mean, tr.halfwidth, strict=True)))
    pyhessian_compare(runs[0]["model"], runs[0]["data"])
    gpu_timing()


if __name__ == "__main__":
    main()
