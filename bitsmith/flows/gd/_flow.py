"""The gd flow: every method at every budget, repeated over seeds, scored on fresh draws.

For each seed index s and budget B (independent pieces, run through ``ctx.map``) the flow
draws the search's data (``n_draws``) and fresh test data (``n_test_draws``) from
SeedSequence((seed, s)), builds a :class:`GdProblem` and runs every method; the search seed
comes from SeedSequence((seed, s, j)) for budget j. The metric is the mean relative
optimality gap (f(w_T) - f*) / (f(w_0) - f*) of the found allocation on the test draws;
bands are 95 % t-intervals over the seeds of log10 of it.
"""

from __future__ import annotations

import json

import numpy as np

from ...config import ConfigError
from ...sim.fixed import Overflow, Rounding
from ...sim.gd import Allocation, GdSpec, Objective, RangeRule, Target, make_data
from .._base import Flow, RunContext, register_flow
from ._config import SCHEDULES, GdConfig
from ._problem import GdProblem
from ._schedules import count_feasible, enumerate_feasible, schedule

__all__ = ["FLOW", "SCHEMA", "run", "spec_from", "data_from", "solve_piece", "summarize"]

SCHEMA = GdConfig

#: the number of features of breast_cancer with its intercept column
_BC_FEATURES = 31


def spec_from(cfg: dict) -> GdSpec:
    """The frozen descent spec of a validated config."""
    d, p = cfg["descent"], cfg["problem"]
    return GdSpec(objective=Objective(p["objective"]), n_steps=d["n_steps"],
                  step_scale=d["step_scale"], target=Target(d["target"]),
                  allocation=Allocation(d["allocation"]), n_blocks=d["n_blocks"],
                  range_rule=RangeRule(d["range_rule"]), range_decay=d["range_decay"],
                  headroom_bits=d["headroom_bits"], rounding=Rounding(d["rounding"]),
                  overflow=Overflow(d["overflow"]))


def _n_features(cfg: dict) -> int:
    p = cfg["problem"]
    return _BC_FEATURES if p["dataset"] == "breast_cancer" else int(p["n_features"])


def data_from(cfg: dict, n_draws: int, rng: np.random.Generator):
    """Draw ``n_draws`` data sets of the config's problem."""
    p = cfg["problem"]
    return make_data(Objective(p["objective"]), p["dataset"], n_draws, p["n_samples"],
                     _n_features(cfg), p["condition"], p["noise"], p["reg"], rng)


def _check(cfg: dict, ctx: RunContext) -> GdSpec:
    """Everything that would fail later, as ConfigError, before any work."""
    file = ctx.config_path
    a, d = cfg["allocation"], cfg["descent"]
    nf = _n_features(cfg)
    if d["n_blocks"] > nf:
        raise ConfigError(f"must be at most the number of coordinates {nf}, not "
                          f"{d['n_blocks']}", file=file, key_path="descent.n_blocks")
    spec = spec_from(cfg)
    n = spec.n_vars
    lo, hi = n * a["min_bits"], n * a["max_bits"]
    for i, b in enumerate(a["budgets"]):
        if not lo <= b <= hi:
            raise ConfigError(
                f"must lie between {lo} bits (all {n} variables at min_bits "
                f"{a['min_bits']}) and {hi} bits (all at max_bits {a['max_bits']}), not {b}",
                file=file, key_path=f"allocation.budgets[{i}]")
    if spec.allocation is Allocation.BLOCK:
        bad = [m for m in a["methods"] if m in SCHEDULES and m != "constant"]
        if bad:
            raise ConfigError(f"schedules {bad} run over the steps: they need allocation "
                              f"step or step_block, not 'block'", file=file,
                              key_path="allocation.methods")
    if "exact" in a["methods"]:
        widths = range(a["min_bits"], a["max_bits"] + 1)
        big = max(a["budgets"])
        count = count_feasible(n, widths, big)
        if count > a["exact_max_points"]:
            raise ConfigError(
                f"exact enumeration of {n} variables under budget {big} would evaluate "
                f"{count} allocations: it must be at most exact_max_points "
                f"{a['exact_max_points']} (fewer steps or widths), not {count}",
                file=file, key_path="allocation.methods")
    return spec


def _schedule_x(spec: GdSpec, shape: str, budget: int, a: dict) -> np.ndarray:
    if spec.allocation is Allocation.STEP:
        return schedule(shape, spec.n_steps, budget, a["min_bits"], a["max_bits"],
                        a["schedule_span_bits"])
    if spec.allocation is Allocation.BLOCK:  # constant only (checked)
        return schedule("constant", spec.n_blocks, budget, a["min_bits"], a["max_bits"], 0.0)
    K = spec.n_blocks
    per_step = schedule(shape, spec.n_steps, budget // K, a["min_bits"], a["max_bits"],
                        a["schedule_span_bits"])
    return np.repeat(per_step, K)


def _swarm_iterations(a: dict) -> int:
    """Iterations of both swarms: enough for ``max_evaluations`` new points even when many
    repeat (repeats are cached and not counted), capped because PPSO's penalty weight
    mu * growth**t overflows a float beyond ~14,000 iterations."""
    return int(min(5000, max(1, 4 * a["max_evaluations"] // a["n_particles"])))


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


def solve_piece(cfg: dict, seed: int, s: int, j: int) -> dict:
    """Every method at budget j on the draws of seed index s (module-level: picklable).

    Returns, per method: the allocation ``x``, ``train_gap`` (the search objective),
    ``test_gap`` (fresh draws), ``cost``, ``feasible``, ``n_evals``, ``n_infeasible`` and,
    for the swarms, the convergence ``history`` (cumulative evaluations, best error).
    """
    from ... import search

    a = cfg["allocation"]
    spec = spec_from(cfg)
    budget = int(a["budgets"][j])
    ss = np.random.SeedSequence([int(seed), int(s)])
    train_ss, test_ss = ss.spawn(2)
    train = data_from(cfg, cfg["evaluation"]["n_draws"], np.random.default_rng(train_ss))
    test = data_from(cfg, cfg["evaluation"]["n_test_draws"], np.random.default_rng(test_ss))
    problem = GdProblem(spec, train, a["min_bits"], a["max_bits"], budget,
                        use_sensitivity=a["gcpso_sensitivity"] == "model")
    scorer = GdProblem(spec, test, a["min_bits"], a["max_bits"], budget)
    out = {}
    start = None
    if a["seed_swarms"]:
        # the swarms' particle 0 starts at the best schedule (search draws): both swarms
        # alike, so they start feasible and at least as good as every schedule
        shapes = [m for m in SCHEDULES if spec.allocation is not Allocation.BLOCK
                  or m == "constant"]
        cands = np.stack([_schedule_x(spec, m, budget, a) for m in shapes])
        start = cands[int(np.argmin(problem.error(cands)))]
    for k, method in enumerate(a["methods"]):
        hist = None
        if method in SCHEDULES:
            x = _schedule_x(spec, method, budget, a)
            err = float(problem.error(x[None])[0])
            n_evals, n_inf = 1, 0
        elif method == "exact":
            pts = enumerate_feasible(spec.n_vars, range(a["min_bits"], a["max_bits"] + 1),
                                     budget)
            errs = problem.error(pts)
            best = int(np.argmin(errs))
            x, err, n_evals, n_inf = pts[best], float(errs[best]), len(pts), 0
        else:
            opts = {}
            if method in ("ppso", "gcpso"):
                opts = {"max_evals": a["max_evaluations"], "n_particles": a["n_particles"],
                        "n_iter": _swarm_iterations(a), "x0": None if start is None else start.tolist()}
            r = search.minimize(problem, method=method, seed=_seed(seed, s, j, k), **opts)
            x, err, n_evals, n_inf = np.asarray(r.x), r.error, r.n_evals, r.n_infeasible
            if method in ("ppso", "gcpso"):
                h = r.history
                hist = {"n_evals": [int(v) for v in h["n_evals"]],
                        "best_error": [float(v) if np.isfinite(v) else None
                                       for v in h["best_error"]]}
        x = np.asarray(x, dtype=np.int64)
        out[method] = {"x": [int(v) for v in x], "train_gap": float(err),
                       "test_gap": float(scorer.error(x[None])[0]),
                       "cost": int(x.sum()), "feasible": bool(x.sum() <= budget),
                       "n_evals": int(n_evals), "n_infeasible": int(n_inf), "history": hist}
    return out


def _ci(values) -> tuple[float, float]:
    """Mean and 95 % t-interval half-width (0 for one value)."""
    from scipy.stats import t as student

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(student.ppf(0.975, v.size - 1) * v.std(ddof=1)
                                  / np.sqrt(v.size))


def summarize(cfg: dict, pieces: dict) -> dict:
    """Per budget and method: log10 test gap mean and CI over seeds, evaluations, paired
    differences against constant and PPSO, gap to the exact optimum (train objective)."""
    a = cfg["allocation"]
    methods, budgets = a["methods"], a["budgets"]
    n_seeds = cfg["evaluation"]["n_seeds"]
    rows = []
    for j, budget in enumerate(budgets):
        per = {m: [pieces[(s, j)][m] for s in range(n_seeds)] for m in methods}
        # an answer over the budget is no answer: it scores as no progress (gap 1, w_0)
        lg = {m: np.log10(np.maximum([r["test_gap"] if r["feasible"] else 1.0
                                      for r in per[m]], 1e-300)) for m in methods}
        lg_train = {m: np.log10(np.maximum([r["train_gap"] if r["feasible"] else 1.0
                                            for r in per[m]], 1e-300)) for m in methods}
        for m in methods:
            mean, half = _ci(lg[m])
            row = {"budget": int(budget), "method": m, "log10_gap_mean": mean,
                   "log10_gap_ci95": half, "gap_geomean": 10 ** mean,
                   "train_gap_mean": float(np.mean([r["train_gap"] for r in per[m]])),
                   "n_evals_mean": float(np.mean([r["n_evals"] for r in per[m]])),
                   "n_infeasible_mean": float(np.mean([r["n_infeasible"] for r in per[m]])),
                   "n_infeasible_total": int(sum(r["n_infeasible"] for r in per[m])),
                   "n_feasible": int(sum(r["feasible"] for r in per[m])),
                   "all_feasible": all(r["feasible"] for r in per[m])}
            for ref in ("constant", "ppso"):
                if ref in methods and ref != m:
                    dm, dh = _ci(lg[m] - lg[ref])
                    row[f"vs_{ref}_log10_diff"] = dm
                    row[f"vs_{ref}_ci95"] = dh
                    # on the search's own draws (the objective the methods minimized)
                    dm, dh = _ci(lg_train[m] - lg_train[ref])
                    row[f"vs_{ref}_train_log10_diff"] = dm
                    row[f"vs_{ref}_train_ci95"] = dh
            if "exact" in methods:
                gaps = [r["train_gap"] / e["train_gap"] - 1.0
                        for r, e in zip(per[m], per["exact"], strict=True)]
                row["gap_to_exact_mean"] = float(np.mean(gaps))
                row["gap_to_exact_max"] = float(np.max(gaps))
            rows.append(row)
    return {"rows": rows}


def run(cfg: dict, ctx: RunContext) -> dict:
    """Check, run every (seed, budget) piece, write results.json, report.md and plots."""
    from ._report import write_report

    spec = _check(cfg, ctx)
    a, ev = cfg["allocation"], cfg["evaluation"]
    keys = [(s, j) for s in range(ev["n_seeds"]) for j in range(len(a["budgets"]))]
    ctx.log(f"gd: {cfg['problem']['objective']} on {cfg['problem']['dataset']}, "
            f"{spec.n_vars} variables, {len(a['budgets'])} budgets x {ev['n_seeds']} seeds, "
            f"methods {', '.join(a['methods'])}")
    bar = ctx.progress("gd pieces")
    if ctx.executor is None:
        results = []
        for i, (s, j) in enumerate(keys):
            results.append(solve_piece(cfg, ctx.seed, s, j))
            bar(i + 1, len(keys), None)
    else:
        results = ctx.map(solve_piece, [cfg] * len(keys), [ctx.seed] * len(keys),
                          [k[0] for k in keys], [k[1] for k in keys])
        bar(len(keys), len(keys), None)
    pieces = dict(zip(keys, results, strict=True))
    summary = summarize(cfg, pieces)
    per_seed = [{"seed_index": s, "budget": int(a["budgets"][j]), "methods": pieces[(s, j)]}
                for s, j in keys]
    (ctx.out_dir / "results.json").write_text(json.dumps(
        {"config": cfg, "seed": ctx.seed, "n_vars": spec.n_vars, "summary": summary["rows"],
         "pieces": per_seed}, indent=1, sort_keys=True) + "\n")
    checks = write_report(cfg, ctx, spec, pieces, summary)
    ok = all(checks.values())
    headline = []
    for row in summary["rows"]:
        extra = ""
        if "vs_constant_log10_diff" in row:
            extra = (f"  vs constant {row['vs_constant_log10_diff']:+.2f} "
                     f"+-{row['vs_constant_ci95']:.2f} dec")
        headline.append(f"B={row['budget']:<5} {row['method']:<11} gap {row['gap_geomean']:.3g}"
                        f" (log10 {row['log10_gap_mean']:.2f} +-{row['log10_gap_ci95']:.2f})"
                        f"  evals {row['n_evals_mean']:.0f}  infeasible "
                        f"{row['n_infeasible_mean']:.0f}{extra}")
    return {"ok": ok, "checks": checks, "n_vars": spec.n_vars,
            "budgets": [int(b) for b in a["budgets"]], "summary": summary["rows"],
            "headline": headline}


FLOW = register_flow(Flow("gd", GdConfig, run,
                          "quantized gradient descent: bits per step under a total-bits "
                          "budget, schedules vs PPSO vs GC-PSO vs exact"))
