"""A synthetic separable bit-allocation: exercises the search engine end to end, no hardware.

Each variable i gets a random error table that falls roughly like 2**(-2 b) (quantization
noise power) times a random sensitivity, and a cost table that grows like b (a bit costs
a random number of units). Every selected method solves the same instance; the exact
optimum (``mckp_dp``) is the reference for the gaps.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ..config import INT64_MAX, ConfigError, ConfigModel, check
from ._base import Flow, RunContext, register_flow

METHOD_NAMES = ("mckp_dp", "ilp", "mckp_greedy", "gcpso", "ppso", "greedy", "uniform", "random")
Method = Literal["mckp_dp", "ilp", "mckp_greedy", "gcpso", "ppso", "greedy", "uniform", "random"]

class CostPerBit(ConfigModel):
    """Range of the per-bit cost drawn for each variable."""

    low: int = Field(1, ge=1, le=2**31, description="least cost units per bit")
    high: int = Field(8, ge=1, le=2**31, description="most cost units per bit")

    @model_validator(mode="after")
    def _ordered(self):
        check(self.low <= self.high, "low",
              f"low ({self.low}) must not exceed high ({self.high})")
        return self


class ProblemConfig(ConfigModel):
    """The random separable instance."""

    n_variables: int = Field(60, ge=1, le=2000, description="number of quantizers")
    min_bits: int = Field(2, ge=1, le=62, description="smallest width (bits)")
    max_bits: int = Field(12, ge=1, le=62, description="largest width (bits)")
    budget_fraction: float = Field(0.4, ge=0.0, le=1.0, allow_inf_nan=False,
                                   description="budget between the least (0) and greatest (1) "
                                               "total cost")
    budget: int | None = Field(None, ge=0, le=INT64_MAX,
                               description="absolute budget (cost units); overrides "
                                           "budget_fraction")
    cost_per_bit: CostPerBit = Field(default_factory=CostPerBit)

    @model_validator(mode="after")
    def _ordered(self):
        check(self.min_bits <= self.max_bits, "min_bits",
              f"min_bits ({self.min_bits}) must not exceed max_bits ({self.max_bits})")
        return self


class SyntheticConfig(ConfigModel):
    """``kind: synthetic``: every search method on one random separable instance."""

    kind: Literal["synthetic"]
    seed: int = Field(0, ge=0, le=INT64_MAX, description="random seed of the instance and "
                      "the searches")
    problem: ProblemConfig = Field(default_factory=ProblemConfig)
    methods: Annotated[list[Method], Field(min_length=1)] = Field(
        list(METHOD_NAMES[:7]), description="methods to run side by side")
    max_evaluations: int = Field(20000, ge=10, le=10**9,
                                 description="evaluation cap of the PSO and random methods")


SCHEMA = SyntheticConfig


def make_instance(n: int, min_bits: int, max_bits: int, cost_low: int, cost_high: int,
                  rng: np.random.Generator):
    """Random separable tables: ``(choices, error_tables, cost_tables)``.

    Parameters
    ----------
    n : int
        Number of variables.
    min_bits, max_bits : int
        Admissible widths (bits) of every variable.
    cost_low, cost_high : int
        Range of the per-bit cost (cost units) drawn per variable.
    rng : numpy.random.Generator
        Source of randomness.
    """
    widths = np.arange(min_bits, max_bits + 1)
    sens = rng.lognormal(0.0, 1.5, size=n)
    per_bit = rng.integers(cost_low, cost_high + 1, size=n)
    fixed = rng.integers(0, 3 * cost_high + 1, size=n)
    errors = [s * 4.0 ** (-widths.astype(float)) * rng.uniform(0.8, 1.25, size=widths.size)
              for s in sens]
    # keep each error table non-increasing in the width, as quantization noise is
    errors = [np.minimum.accumulate(e) for e in errors]
    costs = [f + p * widths for f, p in zip(fixed, per_bit, strict=True)]
    choices = tuple(tuple(int(w) for w in widths) for _ in range(n))
    return choices, errors, costs


def run(cfg: dict, ctx: RunContext) -> dict:
    """Build the instance, run every method, write ``results.json``, ``results.md`` and a plot."""
    from .. import search
    from ..reports import plot_convergence

    p = cfg["problem"]
    if p["min_bits"] > p["max_bits"]:
        raise ConfigError(
            f"min_bits ({p['min_bits']}) must not exceed max_bits ({p['max_bits']})",
            file=ctx.config_path, key_path="problem.min_bits")
    if p["cost_per_bit"]["low"] > p["cost_per_bit"]["high"]:
        raise ConfigError("cost_per_bit.low must not exceed cost_per_bit.high",
                          file=ctx.config_path, key_path="problem.cost_per_bit.low")
    rng = np.random.default_rng(ctx.seed)
    choices, errors, costs = make_instance(p["n_variables"], p["min_bits"], p["max_bits"],
                                           p["cost_per_bit"]["low"], p["cost_per_bit"]["high"],
                                           rng)
    cmin = int(sum(c.min() for c in costs))
    cmax = int(sum(c.max() for c in costs))
    budget = cmin + int(round(p["budget_fraction"] * (cmax - cmin)))
    if p["budget"] is not None:
        budget = p["budget"]
    try:
        problem = search.SeparableProblem(errors, costs, budgets=(budget,), choices=choices)
    except search.InfeasibleBudgetError as e:
        raise ConfigError(str(e), file=ctx.config_path, key_path="problem.budget") from None

    results = {}
    for method in cfg["methods"]:
        opts = {}
        if method in ("gcpso", "ppso"):
            opts["max_evals"] = cfg["max_evaluations"]
        elif method == "random":
            opts["n_evals"] = cfg["max_evaluations"]
        res = search.minimize(problem, method=method, seed=ctx.seed,
                              progress=ctx.progress(f"{method:>11}"), **opts)
        results[method] = res
        ctx.log(f"  {method:<11} error {res.error:.6g}  cost {res.cost[0]}/{budget}  "
                f"evals {res.n_evals}  {res.wall_time_s:.2f} s")

    ref_name = "mckp_dp" if "mckp_dp" in results else ("ilp" if "ilp" in results else None)
    ref = results[ref_name].error if ref_name else None
    rows = []
    for m, r in results.items():
        gap = (r.error - ref) / ref if ref else None
        rows.append({"method": m, "error": r.error, "cost": int(r.cost[0]),
                     "feasible": bool(r.feasible), "gap_to_optimum": gap,
                     "n_evals": int(r.n_evals), "n_infeasible": int(r.n_infeasible),
                     "wall_time_s": round(float(r.wall_time_s), 4),
                     "widths": [int(x) for x in r.x]})
    # wall times vary run to run: keep them out of the byte-for-byte reproducible file
    stable = [{k: v for k, v in row.items() if k != "wall_time_s"} for row in rows]
    (ctx.out_dir / "results.json").write_text(
        json.dumps({"budget": budget, "min_cost": cmin, "max_cost": cmax,
                    "reference": ref_name, "methods": stable}, indent=2, sort_keys=True)
        + "\n")
    lines = ["| method | error | cost (units) | gap to optimum | evaluations | infeasible "
             "| time (s) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        gap = "" if row["gap_to_optimum"] is None else f"{100 * row['gap_to_optimum']:.3f} %"
        lines.append(f"| {row['method']} | {row['error']:.6g} | {row['cost']} / {budget} | "
                     f"{gap} | {row['n_evals']} | {row['n_infeasible']} | "
                     f"{row['wall_time_s']:.3f} |")
    (ctx.out_dir / "results.md").write_text(
        f"# Synthetic separable allocation\n\n{p['n_variables']} variables, widths "
        f"{p['min_bits']}-{p['max_bits']} bits, budget {budget} cost units "
        f"(range {cmin}-{cmax}), seed {ctx.seed}.\n\n" + "\n".join(lines) + "\n\n"
        "![convergence](convergence.png)\n")
    plot_convergence({m: r for m, r in results.items() if len(r.history.get("n_evals", ())) > 1},
                     ctx.out_dir / "convergence.png", optimum=ref)
    all_feasible = all(r["feasible"] for r in rows)
    headline = [f"{r['method']:<11} error {r['error']:.6g}  cost {r['cost']}/{budget} units"
                + ("" if r["gap_to_optimum"] is None
                   else f"  gap {100 * r['gap_to_optimum']:.3f} %") for r in rows]
    return {"ok": all_feasible, "budget": budget, "reference": ref_name,
            "methods": stable, "headline": headline}


FLOW = register_flow(Flow("synthetic", SyntheticConfig, run,
                          "random separable allocation: all search methods side by side"))
