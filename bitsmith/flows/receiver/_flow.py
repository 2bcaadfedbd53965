"""The receiver flow: per-antenna ADC bits under a power (or total-bits) budget.

For each seed s (an independent channel realization and search seed) and each budget, every
method allocates bits on the AQNM sum-rate loss of that channel at the design SNR; the
allocations found are then checked by Monte Carlo BER (ZF, LMMSE, Bussgang LMMSE) over the
SNR sweep. A small instance (Nr = 4-6) is solved exactly by enumeration for the gaps.
Pieces (seed, budget) are independent and seeded by (run seed, s, budget index) alone, so
``ctx.map`` may run them anywhere with identical results.
"""

from __future__ import annotations

import numpy as np

from ...config import ConfigError
from ...hwmodels import receiver as hwr
from ...search import minimize
from ...sim import receiver as rx
from .._base import Flow, RunContext, register_flow
from ._config import SCHEMA, ReceiverConfig, budget_errors
from ._problem import ReceiverProblem, channel_gains, exhaustive, mixed_baseline

#: PPSO penalty settings: q = 1 with a growing weight finds feasible points on this problem
#: (q = 2 and the automatic constant weight mostly do not within the evaluation cap).
PPSO_OPTIONS = {"penalty_exponent": 1, "penalty_growth": 1.2}

#: Methods whose allocation is simulated over the whole SNR sweep (the others at the SNR
#: point nearest the design SNR only, which is what BER-vs-budget needs).
SWEEP_METHODS = ("gcpso", "uniform")


def make_spec(cfg: dict, small: bool = False) -> rx.ReceiverSpec:
    """The frozen :class:`ReceiverSpec` of a validated config (or of its small instance)."""
    s, a = cfg["system"], cfg["adc"]
    n_rx, n_users = s["n_rx"], s["n_users"]
    if small:
        n_rx, n_users = cfg["small_instance"]["n_rx"], cfg["small_instance"]["n_users"]
    return rx.ReceiverSpec(n_rx=n_rx, n_users=n_users, modulation=s["modulation"],
                           channel=s["channel"], correlation=s["correlation"],
                           quantizer=s["quantizer"], min_bits=a["min_bits"],
                           max_bits=a["max_bits"], fom_j=a["fom_fj"] * 1e-15,
                           fs_hz=a["fs_mhz"] * 1e6, cost_model=a["cost_model"])


def integer_budget(cfg: dict, spec: rx.ReceiverSpec, value: float) -> int:
    """The integer budget of one config budget value for ``spec`` (scaled by Nr for the
    small instance when given in native units)."""
    if cfg["budget"]["unit"] == "uniform_bits":
        return hwr.budget_from_uniform_bits(spec, value)
    scale = spec.n_rx / cfg["system"]["n_rx"]
    return hwr.display_to_cost(spec, value * scale)


def channel(cfg: dict, spec: rx.ReceiverSpec, s: int, small: bool = False) -> np.ndarray:
    """Channel realization of seed index ``s`` (Nr, K), drawn from (run seed, s)."""
    rng = np.random.default_rng([cfg["seed"], s, 1 if small else 0])
    return rx.draw_channels_numpy(spec, 1, rng)[0]


def _search(problem, method: str, seed: int, cfg: dict) -> dict:
    sc = cfg["search"]
    if method == "mixed":
        out = mixed_baseline(problem)
        out["history"] = None
    else:
        opts = {}
        if method in ("gcpso", "ppso"):
            opts = {"max_evals": sc["max_evaluations"], "n_particles": sc["n_particles"],
                    "n_iter": max(1, sc["max_evaluations"] // sc["n_particles"])}
        if method == "ppso":
            opts.update(PPSO_OPTIONS)
        r = minimize(problem, method=method, seed=seed, **opts)
        out = {"x": np.asarray(r.x), "error": r.error, "cost": int(r.cost[0]),
               "n_evals": r.n_evals, "n_infeasible": r.n_infeasible,
               "history": {"n_evals": r.history["n_evals"].tolist(),
                           "best_error": r.history["best_error"].tolist()}}
    feasible = out["cost"] <= problem.budgets[0]
    return {"bits": [int(v) for v in out["x"]], "cost": int(out["cost"]),
            "feasible": bool(feasible),
            "rate_loss": float(out["error"]) if feasible else None,
            "sum_rate": float(problem.rate_unquantized - out["error"]) if feasible else None,
            "n_evals": int(out["n_evals"]), "n_infeasible": int(out["n_infeasible"]),
            "history": out["history"]}


def run_piece(cfg: dict, s: int, j: int) -> dict:
    """All methods at budget ``j`` on seed index ``s``: allocations, rates, Monte Carlo BER,
    and the small instance with its exact optimum (module-level: picklable for dask)."""
    spec = make_spec(cfg)
    sysc, mc = cfg["system"], cfg["monte_carlo"]
    H = channel(cfg, spec, s)
    budget = integer_budget(cfg, spec, cfg["budget"]["values"][j])
    problem = ReceiverProblem(spec, H, sysc["design_snr_db"], budget)
    gains = channel_gains(H)
    order = np.argsort(-gains, kind="stable")
    methods = {}
    snrs = np.asarray(sysc["snr_db"])
    k_design = int(np.argmin(np.abs(snrs - sysc["design_snr_db"])))
    for m_i, m in enumerate(cfg["search"]["methods"]):
        res = _search(problem, m, rx.seed_int(cfg["seed"], s, j, m_i), cfg)
        res["bits_by_gain"] = [res["bits"][i] for i in order]
        res["mse"] = (float(rx.aqnm_mse(np.array([res["bits"]]), H, sysc["design_snr_db"],
                                        spec.quantizer, spec.max_bits)[0])
                      if res["feasible"] else None)
        if mc["enabled"] and res["feasible"]:
            # every method at the design SNR; the whole sweep for the two BER-vs-SNR curves
            sweep = m in SWEEP_METHODS
            res["ber"] = [_ber(spec, res["bits"], snr, H, cfg, (s, j, m_i, k))
                          if sweep or k == k_design else None
                          for k, snr in enumerate(sysc["snr_db"])]
        methods[m] = res
    out = {"seed_index": s, "budget_index": j, "budget": budget,
           "rate_unquantized": problem.rate_unquantized,
           "gains_sorted": [float(gains[i]) for i in order], "methods": methods}
    if mc["enabled"]:
        out["ber_unquantized"] = [_ber(spec, None, snr, H, cfg, (s, j, 99, k))
                                  for k, snr in enumerate(sysc["snr_db"])]
    if cfg["small_instance"]["enabled"]:
        out["small"] = small_piece(cfg, s, j)
    return out


def _ber(spec, bits, snr, H, cfg, key) -> dict:
    mc = cfg["monte_carlo"]
    res = rx.ber_monte_carlo(spec, bits, snr, seed=(cfg["seed"], *key), H=H,
                             detectors=mc["detectors"], min_errors=mc["min_errors"],
                             max_batches=mc["max_batches"],
                             batches_per_round=mc["batches_per_round"],
                             n_channels=mc["channels_per_batch"],
                             n_symbols=mc["symbols_per_block"])
    return {d: r.as_dict() for d, r in res.items()}


def small_piece(cfg: dict, s: int, j: int) -> dict:
    """Every method and the exhaustive optimum on the small instance (seed s, budget j)."""
    spec = make_spec(cfg, small=True)
    H = channel(cfg, spec, s, small=True)
    budget = integer_budget(cfg, spec, cfg["budget"]["values"][j])
    problem = ReceiverProblem(spec, H, cfg["system"]["design_snr_db"], budget)
    ex = exhaustive(problem)
    out = {"budget": budget, "optimum": {"bits": [int(v) for v in ex["x"]],
                                         "rate_loss": ex["error"], "n_evals": ex["n_evals"],
                                         "n_feasible": ex["n_feasible"]}, "methods": {}}
    for m_i, m in enumerate(cfg["search"]["methods"]):
        r = _search(problem, m, rx.seed_int(cfg["seed"], s, j, m_i, 7), cfg)
        r.pop("history")
        r["gap"] = (r["rate_loss"] - ex["error"]) if r["feasible"] else None
        out["methods"][m] = r
    return out


def check_config(cfg: dict, ctx: RunContext) -> None:
    """Checks that need computing, raised as ConfigError before any work."""
    errs = budget_errors(cfg)
    if errs:
        (k0, m0), *rest = errs
        raise ConfigError(m0, file=ctx.config_path, key_path=k0,
                          more=tuple(ConfigError(m, file=ctx.config_path, key_path=k)
                                     for k, m in rest))
    try:
        make_spec(cfg)
        make_spec(cfg, small=True)
    except ValueError as e:
        raise ConfigError(str(e), file=ctx.config_path, key_path="system") from None


def run(cfg: dict, ctx: RunContext) -> dict:
    """Run every (seed, budget) piece, then write results.json, report.md and the plots."""
    from ._report import summarize, write_report

    check_config(cfg, ctx)
    cfg = {**cfg, "seed": ctx.seed}  # --seed overrides the config's seed
    n_seeds = cfg["search"]["n_seeds"]
    nb = len(cfg["budget"]["values"])
    bar = ctx.progress("receiver (seed x budget, Monte Carlo)")
    pieces = []
    for s in range(n_seeds):
        pieces.extend(ctx.map(run_piece, [cfg] * nb, [s] * nb, list(range(nb))))
        bar((s + 1) * nb, n_seeds * nb, None)
    results = summarize(cfg, pieces)
    return write_report(cfg, ctx, pieces, results)


FLOW = register_flow(Flow("receiver", ReceiverConfig, run,
                          "per-antenna ADC bits of a multi-antenna receiver under a power "
                          "budget: GC-PSO, PPSO and baselines, AQNM rate and Monte Carlo BER"))

__all__ = ["FLOW", "SCHEMA", "channel", "integer_budget", "make_spec", "run", "run_piece",
           "small_piece"]
