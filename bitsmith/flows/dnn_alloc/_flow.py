"""Flow ``dnn_allocation``: per-layer bits of a digits network on an accelerator.

Config -> per training seed (``ctx.map``: in-process or on ``--scheduler``): train or load
the cached model, calibrate PTQ, Hutchinson traces (with intervals), MPQCO / HAWQ error
tables, the accelerator cost table, and every method over the budget sweep, each
allocation measured by fake-quant test accuracy -> optionally the small MQ-Bench proxy
ranking and multipoint quantization -> report (Markdown, PNG, JSON with sorted keys).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ...config import ConfigError
from .._base import Flow, RunContext, register_flow
from ._config import DnnAllocConfig

__all__ = ["run", "seed_job"]

_SEP = ("mckp_greedy", "mckp_dp", "ilp")
_MEASURED = ("gcpso", "evolution", "random")


def _threads():
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only add contention


def load_factory(spec: str):
    """Call ``FILE.py:function`` and return the module it builds."""
    path, fn = spec.rsplit(":", 1)
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"the model factory file must exist, not {path!r}")
    mod_spec = importlib.util.spec_from_file_location(f"_bitsmith_factory_{p.stem}", p)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    if not callable(getattr(mod, fn, None)):
        raise ValueError(f"{path} must define a function {fn!r}")
    return getattr(mod, fn)()


def _untrained(cfg: dict):
    from ...sim.dnn import build_digits_model

    m = cfg["model"]
    if m["factory"] is not None:
        return load_factory(m["factory"])
    return build_digits_model(m["arch"])


def _grids(alloc: dict):
    pin = alloc["pin_first_last"]
    wg = sorted(set(alloc["w_bits"]) | ({pin} if pin else set()))
    ag = sorted(set(alloc["a_bits"]) | ({pin} if pin else set()))
    return wg, ag


def _pins(alloc: dict, n: int) -> dict[int, tuple[int, int]]:
    pin = alloc["pin_first_last"]
    return {0: (pin, pin), n - 1: (pin, pin)} if pin else {}


def _precheck(cfg: dict, ctx: RunContext):
    """Everything that can fail on the input, before any training or writing."""
    import torch

    from ...hwmodels.dnn import UnsupportedLayerError, cost_table, load_accelerator, trace_model
    from ...sim.dnn import UnsupportedModelError, weight_layers
    from ._problem import build_problem, resolution_for

    f = ctx.config_path
    try:
        model = _untrained(cfg)
        names = [n for n, _ in weight_layers(model)]
        layers = trace_model(model, torch.zeros((1, 1, 8, 8)))
    except (UnsupportedModelError, UnsupportedLayerError, ValueError, RuntimeError,
            TypeError) as e:
        key = "model.factory" if cfg["model"]["factory"] else "model.arch"
        raise ConfigError(str(e), file=f, key_path=key) from None
    if len(layers) != len(names):
        raise ConfigError("every weight layer must be a conv2d or linear module reached "
                          "once per inference", file=f, key_path="model.factory")
    if cfg["model"]["factory"] is not None:
        for sec in ("mqbench", "multipoint"):
            if cfg[sec]["enabled"]:
                raise ConfigError("is only available for the built-in archs (their "
                                  "checkpoints are cached); set enabled: false with "
                                  "model.factory", file=f, key_path=f"{sec}.enabled")
    n_mq = 3 ** len(names)
    if cfg["mqbench"]["enabled"] and cfg["mqbench"]["n_configs"] > n_mq:
        raise ConfigError(f"must not exceed the {n_mq} distinct 2-4-bit configurations of "
                          f"{len(names)} layers, not {cfg['mqbench']['n_configs']}", file=f,
                          key_path="mqbench.n_configs")
    alloc = cfg["allocation"]
    ties = []
    for g, group in enumerate(alloc["ties"]):
        idx = []
        for k, nm in enumerate(group):
            if nm not in names:
                raise ConfigError(f"must name a weight layer ({', '.join(names)}), not {nm!r}",
                                  file=f, key_path=f"allocation.ties[{g}][{k}]")
            idx.append(names.index(nm))
        ties.append(idx)
    pins = _pins(alloc, len(names))
    if any(i in pins for t in ties for i in t):
        raise ConfigError("a tied layer must not be pinned (first/last)", file=f,
                          key_path="allocation.ties")
    wg, ag = _grids(alloc)
    table = cost_table(layers, load_accelerator(alloc["accelerator"]), wg, ag)
    metrics = [alloc["metric"], *[m for m in alloc["budgets"] if m != alloc["metric"]]]
    from ._problem import _columns

    cols = _columns(table, alloc["w_bits"], alloc["a_bits"], pins)
    res = {m: resolution_for(table, m, cols) for m in metrics}
    for m, b in alloc["budgets"].items():
        lo = sum(float(table.flat(m)[i, c].min()) for i, c in enumerate(cols))
        if b < lo:
            raise ConfigError(f"must be at least the all-minimum-bits cost {lo:.6g} "
                              f"({table.units[m]}), not {b:g}", file=f,
                              key_path=f"allocation.budgets.{m}")
    try:
        err = np.zeros((len(names), len(wg), len(ag)))
        budgets = {m: 1e300 for m in metrics}
        build_problem(table, err, alloc["w_bits"], alloc["a_bits"], budgets, res, pins, ties)
    except ValueError as e:
        raise ConfigError(str(e), file=f, key_path="allocation") from None
    return names, ties


def _avg_bits(params, x_codes):
    bw = np.array([c // 100 for c in x_codes])
    return float((np.asarray(params) * bw).sum() / np.sum(params))


def seed_job(cfg: dict, train_seed: int, run_seed: int, ties: list) -> dict[str, Any]:
    """Everything of one training seed (module-level: runs on a dask worker too)."""
    import torch

    from ...hwmodels.dnn import cost_table, load_accelerator, trace_model
    from ...search import minimize
    from ...sim.dnn import (
        accuracy,
        calibrate,
        device,
        hawq_omega,
        hutchinson_traces,
        load_digits_split,
        load_or_train,
        mpqco_omega,
        quantize_network,
        quantized_accuracy,
    )
    from ...sim.fixed import Rounding
    from ._problem import MeasuredProblem, _columns, build_problem, resolution_for, uniform_point

    _threads()
    mc, qc, sc, alloc = cfg["model"], cfg["quantization"], cfg["sensitivity"], cfg["allocation"]
    data = load_digits_split(0)
    if mc["factory"] is None:
        model, info = load_or_train(mc["arch"], data, train_seed, mc["epochs"],
                                    cache_dir=mc["cache_dir"])
    else:
        torch.manual_seed(train_seed)
        model = train_digits_model_from(cfg, data, train_seed)
        info = {"trained": True, "reason": "factory model trained in this run"}
    rounding = Rounding(qc["rounding"])
    model = model.to(device())  # sensitivities on a GPU when there is one
    calib = calibrate(model, data.x_calib, qc["act_percentile"], qc["clip_search"])
    names = list(calib.names)
    layers = trace_model(model, torch.zeros((1, 1, 8, 8), device=device()))
    wg, ag = _grids(alloc)
    table = cost_table(layers, load_accelerator(alloc["accelerator"]), wg, ag)
    pins = _pins(alloc, len(names))
    cols = _columns(table, alloc["w_bits"], alloc["a_bits"], pins)
    probe_seed = int(run_seed) * 1_000_003 + int(train_seed)
    tr = hutchinson_traces(model, data.x_calib, data.y_calib, min_probes=sc["min_probes"],
                           max_probes=sc["max_probes"], rel_tol=sc["rel_tol"],
                           confidence=sc["confidence"], seed=probe_seed)
    om_w, om_a = mpqco_omega(calib, data.x_calib, data.y_calib, wg, ag)
    w_err = hawq_omega(calib, tr, wg) if sc["kind"] == "hessian" else om_w
    if alloc["a_bits"] == [alloc["a_bits"][0]] and len(ag) == 1:
        om_a = np.zeros_like(om_a)
    error = w_err[:, :, None] + om_a[:, None, :]
    metric = alloc["metric"]
    metrics = [metric, *[m for m in alloc["budgets"] if m != metric]]
    res_units = {m: resolution_for(table, m, cols) for m in metrics}
    flat = table.flat(metric)
    lo = sum(float(flat[i, c].min()) for i, c in enumerate(cols))
    hi = sum(float(flat[i, c].max()) for i, c in enumerate(cols))
    params = [la.params for la in layers]
    n_cal = min(alloc["search_images"], len(data.y_calib))
    xs, ys = data.x_calib[:n_cal], data.y_calib[:n_cal]
    evals = alloc["search_evals"]
    rows = []
    for bi, frac in enumerate(alloc["sweep"]):
        budgets = {metric: lo + frac * (hi - lo), **alloc["budgets"]}
        budgets[metric] = lo + frac * (hi - lo)
        prob = build_problem(table, error, alloc["w_bits"], alloc["a_bits"], budgets,
                             res_units, pins, ties)
        meas = None
        for mi, method in enumerate(alloc["methods"]):
            seed = int(run_seed) * 7919 + bi * 101 + mi
            note = ""
            if method in ("mckp_greedy", "mckp_dp") and prob.n_budgets > 1:
                rows.append({"budget_index": bi, "fraction": frac, "method": method,
                             "skipped": "handles one budget; ilp solves several"})
                continue
            if method == "uniform":
                x = uniform_point(prob, pins)
                if x is None:
                    rows.append({"budget_index": bi, "fraction": frac, "method": method,
                                 "skipped": "no uniform width fits"})
                    continue
                x = tuple(int(v) for v in x)
                model_err = float(prob.error(np.array([x]))[0])
                n_ev = 0
            elif method in _SEP:
                r = minimize(prob, method, seed=seed)
                x, model_err, n_ev = r.x, r.error, r.n_evals
            else:
                if meas is None:
                    meas = MeasuredProblem(prob, calib, xs, ys, rounding)
                if method == "gcpso":
                    opts = {"n_particles": 10, "n_iter": max(1, evals // 10 - 1)}
                elif method == "evolution":
                    opts = {"pop_size": 10, "n_gen": max(1, evals // 10 - 1)}
                else:
                    opts = {"n_evals": evals, "batch_size": 10}
                r = minimize(meas, method, seed=seed, **opts)
                x, n_ev = r.x, r.n_evals
                model_err = float(prob.error(np.array([x]))[0])
                note = f"calibration error {r.error:.4f}"
            wb = [c // 100 for c in x]
            ab = [c % 100 for c in x]
            acc = quantized_accuracy(quantize_network(calib, wb, ab, rounding),
                                     data.x_test, data.y_test)
            col = [list(table.codes).index(c) for c in x]
            costs = {m: float(sum(table.flat(m)[i, k] for i, k in enumerate(col)))
                     for m in ("weight_bytes", "bops", "energy_uj", "latency_cycles")}
            rows.append({"budget_index": bi, "fraction": frac, "method": method,
                         "budget": budgets[metric], "bits": [f"w{w}a{a}" for w, a in
                                                             zip(wb, ab, strict=True)],
                         "model_error": model_err, "accuracy": acc, "costs": costs,
                         "avg_w_bits": _avg_bits(params, x), "n_evals": int(n_ev),
                         "note": note})
    return {
        "seed": int(train_seed), "layers": names, "params": params,
        "checkpoint": info["reason"], "float_accuracy": accuracy(model, data.x_test,
                                                                  data.y_test),
        "w8a8_accuracy": quantized_accuracy(quantize_network(
            calib, [8] * len(names), [8] * len(names), rounding), data.x_test, data.y_test),
        "traces": {"mean": tr.mean.tolist(), "halfwidth": tr.halfwidth.tolist(),
                   "n_probes": tr.n_probes, "converged": tr.converged,
                   "confidence": tr.confidence, "rel_tol": tr.rel_tol,
                   "relative_halfwidth": tr.relative_halfwidth.tolist(),
                   "unconverged": list(tr.unconverged)},
        "omega_w": w_err.tolist(), "omega_a": om_a.tolist(), "w_grid": wg, "a_grid": ag,
        "cost_range": [lo, hi], "metric": metric, "results": rows,
    }


def train_digits_model_from(cfg, data, seed):
    """Train a factory model with the digits recipe (not cached: its code may change)."""
    import torch

    from ...sim.dnn._models import _train_module

    torch.manual_seed(seed)
    return _train_module(_untrained(cfg), data, seed, cfg["model"]["epochs"])


def run(cfg: dict, ctx: RunContext) -> dict[str, Any]:
    """Run a ``dnn_allocation`` config; see the module docstring."""
    from . import _report

    names, ties = _precheck(cfg, ctx)
    seeds = cfg["model"]["seeds"]
    n = len(seeds)
    ctx.log(f"dnn_allocation: {len(names)} layers, {n} seed(s), "
            f"{len(cfg['allocation']['sweep'])} budgets x {len(cfg['allocation']['methods'])} "
            f"methods")
    if ctx.executor is None:  # in-process: one progress step per seed
        bar = ctx.progress("dnn_allocation seeds")
        per_seed = []
        for i, s in enumerate(seeds):
            per_seed.append(seed_job(cfg, s, ctx.seed, ties))
            bar(i + 1, n)
    else:
        per_seed = ctx.map(seed_job, [cfg] * n, seeds, [ctx.seed] * n, [ties] * n)
    extra = {}
    if cfg["mqbench"]["enabled"]:
        from ._mq import mqbench_section

        extra["mqbench"] = mqbench_section(cfg, ctx, seeds[0])
    if cfg["multipoint"]["enabled"]:
        from ._mq import multipoint_section

        extra["multipoint"] = multipoint_section(cfg, per_seed, seeds)
    return _report.write(cfg, ctx, per_seed, extra)


register_flow(Flow(kind="dnn_allocation", model=DnnAllocConfig, run=run,
                   description="Per-layer bits of a digits DNN under accelerator budgets: "
                               "Hessian/MPQCO tables, MCKP, DP, ILP, GC-PSO, evolution."))
