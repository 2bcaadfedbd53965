"""The FIR flow: spec -> coefficient-width allocation under a LUT budget -> verified Verilog.

Steps (each reported in ``report.md``):

1. design the float filter from the requirements (``scipy.signal``) and check it meets them;
2. map coefficients to allocation variables (a symmetric pair is one variable);
3. check the spec is reachable within the allowed widths (before any search);
4. best uniform width, then the mixed-precision allocation: with ``objective: spec``, the
   least LUTs that meet the spec (bisection on the LUT budget, GC-PSO at each budget);
   with ``max``/``rms``, the least response error under ``budget_luts``;
5. the other methods (PPSO, greedy, MCKP on the separable noise-power surrogate, uniform)
   at the same budget, for the convergence and comparison tables;
6. bit-true model of the chosen design: response, SQNR, predicted vs measured noise;
7. Verilog (+ ``.coe``), Verilator lint, batch verification on each simulator at 0 LSB
   (in parallel, builds cached),
   yosys synthesis next to the estimate;
8. report with plots.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import ConfigError
from .._base import Flow, RunContext, register_flow
from ._config import FirConfig

SCHEMA = FirConfig  # the config model of kind fir (see _config.py)

# -- building the domain objects from the validated config ---------------------------------

#: Frequency grid (intervals, Nyquist = 1) of the spec check, in the search and at the end.
SPEC_GRID = 4096

#: Linear-phase FIR types: symmetry and length, and the forced zeros each has.
PHASE_TYPES = {"I": "even symmetry, odd length: no forced zero",
               "II": "even symmetry, even length: zero at Nyquist",
               "III": "odd symmetry, odd length: zeros at DC and Nyquist",
               "IV": "odd symmetry, even length: zero at DC"}

def _design(cfg: dict, path):
    from ._config import filter_design

    try:
        return filter_design(cfg["filter"])
    except ValueError as e:
        key = "filter.coefficients" if cfg["filter"]["coefficients"] is not None else "filter"
        raise ConfigError(str(e), file=path, key_path=key) from None


def design_label(design) -> str:
    """How the float taps came about, for logs and the report."""
    if design.coefficients is not None:
        return "user-coefficient"
    label = design.method.value
    if design.response is not None and design.response.value in ("halfband", "multiband"):
        label = f"{design.response.value} {label}"
    return f"minimum-phase {label}" if design.phase == "minimum" else label


def _design_taps(design, path) -> np.ndarray:
    """Float taps of ``design``; a design method that fails or does not converge is bad input."""
    import warnings

    from ...sim import design_fir

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # remez reports a failed convergence as a warning
        try:
            h = design_fir(design)
        except (ValueError, RuntimeWarning, UserWarning, ArithmeticError) as e:
            text = " ".join(str(e).split())
            raise ConfigError(f"the {design_label(design)} design failed: {text} (change "
                              f"numtaps, the edges or the method)", file=path,
                              key_path="filter") from None
    if not np.all(np.isfinite(h)) or not np.any(h):
        raise ConfigError(f"the {design_label(design)} design returned unusable taps (NaN or "
                          f"all zero): change numtaps, the edges or the method", file=path,
                          key_path="filter")
    return h


def _formats(cfg: dict, path, h, log=lambda message: None):
    """Input and output formats; ``output.int_bits: auto`` resolved from the L1 bound.

    The bound is that of the float taps quantized at ``max_bits`` (the final design is
    rechecked in :func:`_final_output`). An explicit output width that can overflow with
    ``overflow: wrap`` is an error unless ``allow_overflow`` says it is intended.
    """
    from ...sim import FirSpec, QFormat, min_output_int_bits, quantize_coefficients

    o = cfg["output"]
    try:
        fmt_in = QFormat(cfg["input"]["int_bits"], cfg["input"]["frac_bits"])
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e), file=path, key_path="input") from None
    bits = cfg["allocation"]["max_bits"]
    raw, frac = quantize_coefficients(h, [bits] * h.size)
    probe = FirSpec(raw, frac, [bits] * h.size, fmt_in, QFormat(62 - o["frac_bits"],
                                                              o["frac_bits"]))
    need = min_output_int_bits(probe)
    l1 = float(np.abs(h).sum())
    if o["int_bits"] == "auto":
        int_bits = need
        log(f"fir: output.int_bits auto -> {need}: the L1 bound (sum|h| = {l1:.4f} times "
            f"the input's full scale) fits Q{need}.{o['frac_bits']} "
            f"({need + o['frac_bits']} bits), so no input can overflow")
        if not 2 <= need + o["frac_bits"] <= 48:
            raise ConfigError(f"auto needs {need} integer bits, so the output word would be "
                              f"{need + o['frac_bits']} bits (2 to 48 allowed): change "
                              f"frac_bits", file=path, key_path="output.int_bits")
    else:
        int_bits = o["int_bits"]
        _check_wrap(o, need, f"the L1 bound, sum|h| = {l1:.4f} times full scale, needs "
                             f"int_bits {need}", path)
    try:
        fmt_out = QFormat(int_bits, o["frac_bits"])
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e), file=path, key_path="output") from None
    return fmt_in, fmt_out


def _final_output(spec, cfg: dict, path, log):
    """The chosen design with its output width rechecked against its own L1 bound.

    ``auto`` gets the fewest integer bits of the quantized coefficients (which may differ
    from the float taps' by one); an explicit width is kept.
    """
    from dataclasses import replace

    from ...sim import QFormat, min_output_int_bits

    o = cfg["output"]
    need = min_output_int_bits(spec)
    if o["int_bits"] == "auto":
        if need != spec.output_format.int_bits:
            log(f"fir: output.int_bits auto -> {need} for the quantized coefficients (the "
                f"float taps' bound gave {spec.output_format.int_bits})")
            spec = replace(spec, output_format=QFormat(need, o["frac_bits"]))
    else:
        _check_wrap(o, need, f"the quantized coefficients need int_bits {need}", path)
    return spec


def _check_wrap(o: dict, need: int, why: str, path) -> None:
    """An explicit output width that can overflow with ``overflow: wrap`` is an error unless
    ``allow_overflow`` says it is intended (``need``: the integer bits that cannot)."""
    if o["int_bits"] < need and o["overflow"] == "wrap" and not o["allow_overflow"]:
        raise ConfigError(
            f"Q{o['int_bits']}.{o['frac_bits']} can overflow ({why}) and overflow: wrap turns "
            f"every overflow into a full-scale error: use int_bits: auto, overflow: saturate, "
            f"or allow_overflow: true", file=path, key_path="output.int_bits")


def _spec(problem, x, cfg, fmt_in, fmt_out):
    """The FirSpec of the allocation ``x`` (widths per variable)."""
    return _cost_fn(cfg, fmt_in, fmt_out).spec(*problem.raw(np.asarray(x)[None, :]))


def _cost_fn(cfg: dict, fmt_in, fmt_out):
    """Batch LUT estimate for the search: the calibrated model of bitsmith.hwmodels."""
    impl = cfg["implementation"]
    return _BatchCost(fmt_in, fmt_out, cfg["output"]["rounding"], cfg["output"]["overflow"],
                      impl["form"], impl["fold_symmetric"], impl["multiplier"],
                      impl["pipeline"], cfg["target"]["device"])


class _BatchCost:
    """Picklable ``(raw, coef_frac, widths) -> LUTs`` for the search (and its executor).

    Candidates differ in their common coefficient LSB, so they are costed in groups of
    equal ``coef_frac``, each against a template spec built from its first member.
    """

    def __init__(self, fmt_in, fmt_out, rounding, overflow, form, fold, multiplier,
                 pipeline, target):
        self.args = (fmt_in, fmt_out, rounding, overflow, form, fold, multiplier, pipeline)
        self.target = target

    def spec(self, raw, coef_frac: int, widths):
        """The :class:`FirSpec` of one coefficient set with this cost's structure.

        Folding applies only where the coefficients are (anti)symmetric.
        """
        from ...sim import FirForm, FirSpec, Multiplier, Overflow, Rounding

        fmt_in, fmt_out, rounding, overflow, form, fold, multiplier, pipeline = self.args
        spec = FirSpec(
            coefficients=tuple(int(c) for c in raw), coef_frac=int(coef_frac),
            coef_widths=tuple(int(w) for w in widths), input_format=fmt_in,
            output_format=fmt_out, rounding=Rounding(rounding), overflow=Overflow(overflow),
            form=FirForm(form), fold_symmetric=False, multiplier=Multiplier(multiplier),
            pipeline=pipeline)
        if fold and spec.symmetry.value != "none":
            spec = FirSpec(**{**spec.__dict__, "fold_symmetric": True})
        return spec

    def __call__(self, raw, coef_frac, widths):
        from ...hwmodels.fir import fir_luts_batch

        out = np.empty(len(raw), dtype=np.int64)
        for f in np.unique(coef_frac):
            rows = np.flatnonzero(coef_frac == f)
            template = self.spec(raw[rows[0]], f, widths[rows[0]])
            out[rows] = fir_luts_batch(raw[rows], template, target=self.target)
        return out


# -- the flow --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FirSetup:
    """Everything the allocation needs, built and checked from a validated config."""

    design: object
    h: np.ndarray
    symmetry: object
    vmap: tuple
    widths: tuple[int, ...]
    choices: tuple
    problem: object  #: FirAllocationProblem with the configured objective
    spec_problem: object  #: the same with objective "spec"
    fmt_in: object
    fmt_out: object
    phase_type: str | None = None  #: linear-phase type I-IV, None without symmetry
    zero_taps: int = 0  #: exact zeros of the design, pruned and not searched


def setup(cfg: dict, path, log=lambda message: None) -> FirSetup:
    """Steps 1-3: float design, variables, reachability; raises ConfigError before any search."""
    from ...sim import (
        bands,
        linear_phase_type,
        phase_type_conflict,
        response_metrics,
        variable_map,
    )
    from ...sim import symmetry as float_symmetry
    from ...sim.fir._design import _cleaned
    from ._problem import FirAllocationProblem

    a = cfg["allocation"]
    design = _design(cfg, path)
    if a["min_bits"] > a["max_bits"]:
        raise ConfigError(f"min_bits ({a['min_bits']}) must not exceed max_bits "
                          f"({a['max_bits']})", file=path, key_path="allocation.min_bits")
    if a["objective"] != "spec" and a["budget_luts"] is None:
        raise ConfigError(f"objective {a['objective']!r} needs a LUT budget", file=path,
                          key_path="allocation.budget_luts")

    from ...hwmodels.fir import calibrated_targets

    if cfg["target"]["device"] not in calibrated_targets():
        raise ConfigError(
            f"the FIR cost model is calibrated for {', '.join(calibrated_targets())} only, not "
            f"{cfg['target']['device']!r} (scripts/calibrate_fir_cost.py --target ... adds one)",
            file=path, key_path="target.device")

    # 1. float design
    h = _design_taps(design, path)
    label = design_label(design)
    ptype = linear_phase_type(h)
    why = phase_type_conflict(ptype, bands(design))
    if why:
        raise ConfigError(f"the {label} taps ({h.size}) make a {why}: the response cannot be "
                          f"met", file=path, key_path="filter")
    float_m = response_metrics(h, h, design)
    if bands(design) and (float_m.stopband_atten_db < design.stopband_atten_db
                          or float_m.passband_ripple_db > design.passband_ripple_db):
        fix = ("" if design.coefficients is not None
               else ": raise numtaps or relax the targets")
        raise ConfigError(
            f"the float {label} design with {h.size} taps does not meet the spec "
            f"itself (stopband {float_m.stopband_atten_db:.2f} dB for "
            f"{design.stopband_atten_db:g} dB, ripple {float_m.passband_ripple_db:.3f} dB for "
            f"{design.passband_ripple_db:g} dB){fix}",
            file=path, key_path="filter")
    if bands(design):
        log(f"fir: float {label} design, {h.size} taps: stopband "
            f"{float_m.stopband_atten_db:.2f} dB, ripple {float_m.passband_ripple_db:.4f} dB")
    else:
        log(f"fir: {label} design, {h.size} taps; spec: max |H_q - H| <= "
            f"{design.max_error_db:g} dB of the peak gain")
    if ptype is None:
        log("fir: no (anti)symmetry: non-linear phase, one variable per tap"
            + (", fold_symmetric off" if cfg["implementation"]["fold_symmetric"] else ""))
    else:
        log(f"fir: linear phase type {ptype} ({PHASE_TYPES[ptype]})")

    fmt_in, fmt_out = _formats(cfg, path, h, log)

    # 2. variables: a (anti)symmetric pair is one; exact zeros of the design (a halfband's
    # every other tap) are none -- pruned, width 0, never searched
    sym = float_symmetry(h)
    hc = _cleaned(h)
    all_vars = variable_map(h.size, sym)
    vmap = [taps for taps in all_vars if np.any(hc[list(taps)] != 0)]
    n_zero = sum(len(t) for t in all_vars) - sum(len(t) for t in vmap)
    if n_zero:
        log(f"fir: {n_zero} taps are exact zeros of the design: pruned (width 0), not "
            f"search variables ({len(vmap)} variables)")
    widths = tuple(range(a["min_bits"], a["max_bits"] + 1))
    # width 0 prunes a coefficient; the largest one is always kept (a filter needs a tap)
    main_var = next(j for j, taps in enumerate(vmap) if int(np.argmax(np.abs(h))) in taps)
    choices = tuple(((0,) if a["allow_pruning"] and j != main_var else ()) + widths
                    for j in range(len(vmap)))
    cost_fn = _cost_fn(cfg, fmt_in, fmt_out)
    big = 10**12
    # the search judges the spec on the grid the final check uses (response_metrics'
    # 4096 intervals): on a coarser one, polish can stop a hair past the mask between points
    base = FirAllocationProblem(h, design, vmap, choices, big, cost_fn, a["objective"],
                                n_freq=SPEC_GRID)
    spec_p = base if a["objective"] == "spec" else FirAllocationProblem(
        h, design, vmap, choices, big, cost_fn, "spec", n_freq=SPEC_GRID)

    # 3. reachable at all?
    xmax = np.array([c[-1] for c in choices])
    e_max = float(spec_p.error(xmax[None, :])[0])
    if a["objective"] == "spec" and e_max > 1:
        m = response_metrics(spec_p.quantized(xmax[None, :])[0], h, design)
        if not bands(design) or design.max_error_db is not None:
            raise ConfigError(
                f"the spec cannot be met within the allowed widths: with every coefficient "
                f"at max_bits = {a['max_bits']} bits the spec error is {e_max:.3g} (> 1; max "
                f"|H_q - H| {m.max_error:.3g})", file=path, key_path="allocation.max_bits")
        raise ConfigError(
            f"the spec cannot be met within the allowed widths: with every coefficient at "
            f"max_bits = {a['max_bits']} bits the stopband attenuation is "
            f"{m.stopband_atten_db:.2f} dB (need {design.stopband_atten_db:g}) and the ripple "
            f"{m.passband_ripple_db:.4f} dB (allowed {design.passband_ripple_db:g})",
            file=path, key_path="allocation.max_bits")
    return FirSetup(design, h, sym, tuple(vmap), widths, choices, base, spec_p, fmt_in,
                    fmt_out, ptype, n_zero)


def solve_with(problem, method: str, a: dict, seed: int, progress=None):
    """Run one search method on the FIR problem with the config's options.

    PSO methods start one particle at the exact MCKP optimum of the separable noise
    surrogate when ``seed_from_surrogate`` is set.
    """
    from ... import search

    mopts = {}
    if method in ("gcpso", "ppso"):
        mopts = {"n_particles": a["n_particles"], "n_iter": a["n_iter"]}
        if method == "gcpso":
            mopts["refill"] = a["gcpso_refill"]
        if a["seed_from_surrogate"]:
            mopts["x0"] = search.minimize(problem.surrogate(), method="mckp_dp").x
    elif method == "random":
        mopts = {"n_evals": a["n_particles"] * a["n_iter"]}
    return search.minimize(problem, method=method, seed=seed, progress=progress, **mopts)


def _require_tools(cfg: dict) -> None:
    """Fail (exit 3) before any search when a simulator or yosys the config needs is missing."""
    from ...hwmodels.synth import find_yosys
    from ...sim.hdl import require_simulator

    for simulator in cfg["verification"]["simulators"]:
        require_simulator(simulator)
    if cfg["verification"]["lint"]:
        require_simulator("verilator")
    if cfg["synthesis"]["enabled"]:
        find_yosys()


def run(cfg: dict, ctx: RunContext) -> dict:
    """Run the FIR flow; see the module docstring."""
    from ._report import write_report

    t_start = time.perf_counter()
    path = ctx.config_path
    a = cfg["allocation"]
    st = setup(cfg, path, ctx.log)
    _require_tools(cfg)
    design, h, sym, vmap, widths, choices = (st.design, st.h, st.symmetry, st.vmap,
                                             st.widths, st.choices)
    base, spec_p, fmt_in, fmt_out = st.problem, st.spec_problem, st.fmt_in, st.fmt_out

    # 4. uniform baselines: every width, both scalings; the cheapest meeting the spec
    uniform = uniform_baselines(base, spec_p, widths)
    uni_ok = [u for u in uniform if u["meets"]]
    best_uniform = min(uni_ok, key=lambda u: u["luts"]) if uni_ok else None
    x_min = np.array([c[0] for c in choices])
    min_cost = int(base.full_cost(x_min[None, :])[0])  # the cheapest design, full model

    runs = []  # every search run: (label, budget, SearchResult)

    def solve(problem, method, label):
        res = solve_with(problem, method, a, ctx.seed, ctx.progress(f"{label:>22}"))
        runs.append((label, problem.budgets[0], res))
        return res

    if a["objective"] == "spec":
        if best_uniform is None:
            raise ConfigError("no uniform width meets the spec", file=path,
                              key_path="allocation.max_bits")
        u_x = np.asarray(best_uniform["x"])
        u_cost = int(base.cost(u_x[None, :])[0, 0])
        ctx.log(f"fir: best uniform: {best_uniform['bits']}-bit words "
                f"({best_uniform['scaling']}), {best_uniform['luts']} LUTs; bisection on the "
                f"LUT budget between {min_cost} and {u_cost}")
        best, hi = least_luts_meeting_spec(
            base, lambda p, label: solve(p, a["method"], f"{a['method']} {label}"), min_cost,
            u_cost, a["bisection_steps"], ctx.log)
        if best is None:  # the uniform design itself is the answer
            best_x, budget = u_x, u_cost
        else:
            best_x, budget = np.asarray(best.x), hi
        if a["polish"]:
            best_x = polish(base, best_x, ctx.log)
        budget = int(base.cost(best_x[None, :])[0, 0])
    else:
        budget = a["budget_luts"]
        if budget < min_cost:
            raise ConfigError(f"budget_luts {budget} is infeasible: the smallest achievable "
                              f"cost is {min_cost} LUTs", file=path,
                              key_path="allocation.budget_luts")
        best = solve(base.with_budget(budget), a["method"], a["method"])
        best_x = np.asarray(best.x)

    # Pareto front: the main method over a sweep of budgets around the chosen one
    n_sweep = cfg["report"]["pareto_points"]
    if n_sweep:
        top = best_uniform["luts"] if best_uniform else 2 * budget
        for b in np.unique(np.linspace(0.6 * budget, max(1.3 * top, budget + n_sweep),
                                       n_sweep).astype(int)):
            if b >= min_cost:
                solve(base.with_budget(int(b)), a["method"], f"sweep @{int(b)} LUTs")

    # 5. the other methods at the same budget (same objective)
    at_budget = base.with_budget(budget)
    compare = {}
    main_res = solve(at_budget, a["method"], f"{a['method']} (final budget)")
    compare[a["method"]] = main_res
    for m in a["compare"]:
        if m == a["method"]:
            continue
        if m == "mckp_greedy":
            compare[m] = _mckp_surrogate(at_budget, ctx, runs)
        else:
            compare[m] = solve(at_budget, m, m)
    if main_res.feasible and main_res.error < float(base.error(best_x[None, :])[0]):
        best_x = np.asarray(main_res.x)

    # 6-8. the chosen design, simulated, generated, verified, synthesized
    spec = _final_output(_spec(base, best_x, cfg, fmt_in, fmt_out), cfg, path, ctx.log)
    if a["objective"] != "spec":
        full = int(base.full_cost(best_x[None, :])[0])
        if full > budget:
            ctx.warn(f"the search's separable LUT table put the design at or under "
                     f"budget_luts {budget}, but the full cost model estimates {full} LUTs "
                     f"({100 * (full - budget) / budget:+.1f} %)")
    uni_spec = (None if best_uniform is None else _final_output(
        _uniform_spec(base, best_uniform, cfg, fmt_in, fmt_out), cfg, path, ctx.log))
    choice = _mixed_or_uniform(spec, uni_spec, base, best_x, best_uniform, cfg, ctx)
    if choice["shipped"] == "uniform":
        spec, best_x = uni_spec, np.asarray(best_uniform["x"])
    result = _implement(spec, h, design, cfg, ctx, synthesis=choice.pop("_synthesis", None))
    est_luts = result["estimate"]["luts"]  # the full model, as _implement costed it
    summary = {
        "shipped": choice["shipped"], "shipped_reason": choice["reason"],
        "mixed_vs_uniform": choice,
        "taps": int(h.size), "variables": len(vmap), "symmetry": sym.value,
        "design": design_label(design), "linear_phase_type": st.phase_type,
        "zero_taps": st.zero_taps,
        "budget_luts": int(budget), "estimated_luts": est_luts,
        "allocation_widths": [int(v) for v in best_x],
        "uniform": best_uniform,
        "uniform_all": uniform,
        "lut_saving_vs_uniform": (None if uni_spec is None
                                  else 1 - est_luts / choice["uniform_luts_estimate"]),
        "spec_error": (best_uniform["spec_error"] if choice["shipped"] == "uniform"
                       else float(spec_p.error(best_x[None, :])[0])),
        **result,
    }
    summary["methods"] = {m: {"error": float(r.error), "luts": int(r.cost[0]),
                              "feasible": bool(r.feasible), "n_evals": int(r.n_evals),
                              "n_infeasible": int(r.n_infeasible)}
                          for m, r in compare.items()}
    if ctx.warnings:
        summary["warnings"] = list(ctx.warnings)
    write_report(ctx.out_dir, cfg, design=design, h=h, spec=spec, problem=base,
                 spec_problem=spec_p, best_x=best_x, uniform=uniform,
                 best_uniform=best_uniform, compare=compare, runs=runs, summary=summary)
    checks = {
        "meets_spec": summary["meets_spec"],
        "rtl_matches_model": all(v["mismatches"] == 0 and v["samples_checked"] > 0
                                 and v["latency_errors"] == 0
                                 for v in result["verification"].values()),
        "lint_clean": (result["lint"]["warnings"] == 0 and result["lint"]["returncode"] == 0
                       if result["lint"] else True),
        "no_latches": (result["synthesis"] or {}).get("latches", 0) == 0,
    }
    if cfg["output"]["int_bits"] == "auto":  # the bound's promise, checked on its worst case
        checks["no_output_overflow"] = (result["output"]["random"]["overflows"] == 0
                                        and result["output"]["worst_case"]["overflows"] == 0)
    summary["checks"] = checks
    summary["ok"] = all(checks.values())
    # timings vary run to run: they go to timings.json, so summary.json is reproducible
    timings = {"total_s": round(time.perf_counter() - t_start, 1)}
    for simulator, v in summary["verification"].items():
        timings[f"verify_{simulator}_s"] = v.pop("seconds")
    if summary["synthesis"]:
        timings["synthesis_s"] = summary["synthesis"].pop("seconds")
    (ctx.out_dir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    summary["headline"] = _headline(summary)
    (ctx.out_dir / "allocation.json").write_text(json.dumps(
        {"widths_per_variable": summary["allocation_widths"],
         "widths_per_tap": list(spec.coef_widths), "coefficients": list(spec.coefficients),
         "coef_frac": spec.coef_frac}, indent=2) + "\n")
    return summary


def fir_cost_luts(spec, cfg: dict) -> int:
    """LUTs of ``spec`` by the full cost model (what the report calls the estimate)."""
    from ... import hwmodels

    return int(hwmodels.fir_cost(spec, target=cfg["target"]["device"]).luts)


def _uniform_spec(problem, u: dict, cfg: dict, fmt_in, fmt_out):
    """The FirSpec of a uniform baseline row (either scaling)."""
    cost = _cost_fn(cfg, fmt_in, fmt_out)
    if u["scaling"] == "common_lsb":
        raw, frac, tap_w = problem.common_lsb(u["bits"])
        return cost.spec(raw, frac, tap_w)
    return cost.spec(*problem.raw(np.asarray(u["x"])[None, :]))


def _mixed_or_uniform(mixed, uniform, problem, x, best_uniform, cfg: dict, ctx) -> dict:
    """Ship the mixed design only where it beats the best uniform one.

    With ``objective: spec`` both meet the spec and the fewer LUTs win: by the estimate,
    and by yosys too when synthesis is on (both are synthesized, in parallel; the winner's
    result is reused). With ``max``/``rms`` the uniform design wins when it fits the budget
    (full model) with no more error. Ties go to uniform: the simpler design.
    """
    a = cfg["allocation"]
    out = {"shipped": "mixed", "reason": "no uniform baseline meets the requirements"}
    if uniform is None:
        return out
    est_m, est_u = fir_cost_luts(mixed, cfg), fir_cost_luts(uniform, cfg)
    out.update({"mixed_luts_estimate": est_m, "uniform_luts_estimate": est_u,
                "uniform": f"{best_uniform['bits']}-bit {best_uniform['scaling']}"})
    if a["objective"] != "spec":
        err_m = float(problem.error(np.asarray(x)[None, :])[0])
        if est_u <= a["budget_luts"] and best_uniform["error"] <= err_m:
            out.update(shipped="uniform", reason=f"the best uniform design fits the budget "
                       f"with no more {a['objective']} error ({best_uniform['error']:.4g} "
                       f"vs {err_m:.4g})")
        else:
            out["reason"] = "less error than every uniform design within the budget"
        return out
    if est_m >= est_u:
        out.update(shipped="uniform", reason=f"the mixed allocation ({est_m} LUTs, estimate) "
                   f"does not beat the best uniform design ({est_u} LUTs)")
        ctx.log(f"fir: shipping the uniform design: {out['reason']}")
        return out
    out["reason"] = f"fewer LUTs than the best uniform design (estimate {est_m} vs {est_u})"
    if not cfg["synthesis"]["enabled"]:
        return out
    from concurrent.futures import ThreadPoolExecutor

    ctx.log("fir: synthesizing the mixed and the best uniform design with yosys "
            f"({cfg['target']['device']})")
    with ThreadPoolExecutor(max_workers=2) as pool:
        syn_m, syn_u = pool.map(lambda sp: _synthesize(sp, cfg, ctx.seed), (mixed, uniform))
    out.update({"mixed_luts_yosys": int(syn_m.luts), "uniform_luts_yosys": int(syn_u.luts)})
    if syn_m.luts >= syn_u.luts:
        out.update(shipped="uniform", reason=f"yosys does not confirm the estimate: mixed "
                   f"{syn_m.luts} LUTs vs uniform {syn_u.luts}")
        ctx.log(f"fir: shipping the uniform design: {out['reason']}")
        out["_synthesis"] = syn_u
    else:
        out["reason"] += f"; yosys {syn_m.luts} vs {syn_u.luts}"
        out["_synthesis"] = syn_m
    return out


def _synthesize(spec, cfg: dict, seed: int):
    """yosys on the Verilog the flow would ship for ``spec`` (same interface and header)."""
    from ... import hwmodels, rtl

    iface = interface(cfg)
    verilog = rtl.fir_verilog(spec, interface=iface,
                              config_hash=config_hash({**cfg, "seed": seed}))
    return hwmodels.synthesize(verilog, iface.module_name, target=cfg["target"]["device"],
                               dsp=spec.multiplier.value == "dsp")


def uniform_baselines(problem, spec_problem, widths) -> list[dict]:
    """Every uniform coefficient width, in both scalings, with its LUTs and errors.

    ``own_exponent``: every coefficient gets ``bits`` significant bits at its own exponent
    (the mixed search's representation with all widths equal). ``common_lsb``: the classic
    fixed-point word -- ``bits``-bit words on the LSB the largest coefficient sets, small
    coefficients keep fewer significant bits. LUTs are the full cost model's.
    """
    rows = []
    for b in widths:
        x = np.full(problem.n_var, b)
        Q = problem.quantized(x[None, :])
        rows.append(_uniform_row(problem, spec_problem, "own_exponent", b, x, Q,
                                 int(problem.full_cost(x[None, :])[0])))
        raw, frac, tap_w = problem.common_lsb(b)
        x = np.array([tap_w[taps[0]] for taps in problem.vmap])
        ok = all(int(v) in ch for v, ch in zip(x, problem.choices, strict=True))
        if not ok:  # a width outside the allowed set (e.g. the kept tap pruned)
            continue
        Q = (raw * 2.0**-frac)[None, :]
        luts = int(problem.cost_fn(raw[None, :], np.array([frac]), np.array([tap_w]))[0])
        rows.append(_uniform_row(problem, spec_problem, "common_lsb", b, x, Q, luts))
    return rows


def _uniform_row(problem, spec_problem, scaling, bits, x, Q, luts):
    spec_err = float(spec_problem.spec_error(Q)[0])
    return {"scaling": scaling, "bits": int(bits), "x": [int(v) for v in x], "luts": luts,
            "error": float(problem.error_of_values(Q)[0]), "spec_error": spec_err,
            "meets": spec_err <= 1}


def polish(problem, x, log=None):
    """Greedy descent: lower single variables one step while the spec still holds.

    Tries the steps that save the most LUTs first; repeats until no step keeps the spec
    error <= 1. Every accepted point meets the spec, and each pass costs at most one
    batch evaluation of N candidates.
    """
    x = np.array(x, dtype=np.int64)
    idx = problem.to_index(x[None, :])[0]
    start = int(problem.cost(x[None, :])[0, 0])
    while True:
        can = np.flatnonzero(idx > 0)
        if can.size == 0:
            break
        cand = np.repeat(idx[None, :], can.size, axis=0)
        cand[np.arange(can.size), can] -= 1
        err, cost = problem.evaluate(problem.to_width(cand))
        ok = err <= 1
        if not ok.any():
            break
        order = np.lexsort((err, cost[:, 0]))  # cheapest first, then least error
        idx = cand[order[np.argmax(ok[order])]]
    x = problem.to_width(idx[None, :])[0]
    if log:
        log(f"  polish: {start} -> {int(problem.cost(x[None, :])[0, 0])} LUTs")
    return x


def least_luts_meeting_spec(problem, solve, lo: int, hi: int, steps: int, log=None):
    """Bisection on the LUT budget for the least LUTs whose best allocation meets the spec.

    Parameters
    ----------
    problem : FirAllocationProblem
        With objective ``spec`` (met when the error is <= 1).
    solve : callable
        ``solve(problem_at_budget, label) -> SearchResult``.
    lo, hi : int
        A budget known to fail (LUTs) and one known to pass (e.g. the best uniform width's).
    steps : int
        Bisection steps.
    log : callable, optional
        Progress messages.

    Returns
    -------
    (SearchResult or None, int)
        The cheapest passing result found (None if none beat ``hi``) and its LUTs.
    """
    best = None
    for step in range(steps):
        mid = (lo + hi) // 2
        if mid <= lo:
            break
        res = solve(problem.with_budget(mid), f"@{mid} LUTs")
        ok = res.feasible and res.error <= 1
        if log:
            log(f"  step {step + 1}: budget {mid} LUTs -> spec error {res.error:.4f} "
                f"({'meets' if ok else 'fails'}), {res.cost[0]} LUTs")
        if ok:
            hi, best = int(res.cost[0]), res
        else:
            lo = mid
    return best, hi


def _mckp_surrogate(problem, ctx, runs):
    """MCKP (greedy) on the separable noise-power surrogate, scored on the real objective."""
    from ... import search

    t0 = time.perf_counter()
    sur = search.minimize(problem.surrogate(), method="mckp_greedy", seed=ctx.seed)
    e, c = problem.evaluate(np.asarray(sur.x)[None, :])
    out = search.SearchResult(
        x=sur.x, error=float(e[0]), cost=(int(c[0, 0]),),
        feasible=bool(c[0, 0] <= problem.budgets[0]), n_evals=1,
        n_infeasible=int(c[0, 0] > problem.budgets[0]),
        wall_time_s=time.perf_counter() - t0,
        history={"iteration": np.array([0]), "n_evals": np.array([1]),
                 "best_error": np.array([float(e[0])])},
        method="mckp_greedy", options={"surrogate": "squared coefficient error"})
    runs.append(("mckp_greedy (surrogate)", problem.budgets[0], out))
    return out


def _implement(spec, h, design, cfg, ctx, synthesis=None) -> dict:
    """Bit-true metrics, noise, Verilog, lint, RTL verification and synthesis."""
    from ... import rtl
    from ...sim import random_full_scale, response_metrics, to_float
    from ...sim.fir._metrics import measure_sqnr, predict_output_noise

    out: dict = {}
    m = response_metrics(np.array(spec.values), h, design)
    out["response"] = {"stopband_atten_db": m.stopband_atten_db,
                       "passband_ripple_db": m.passband_ripple_db,
                       "max_error": m.max_error, "rms_error": m.rms_error}
    from ...sim import bands, frequency_response

    peak = float(np.abs(frequency_response(h, 4096)[1]).max())
    out["response"]["max_error_db"] = 20 * math.log10(max(m.max_error, 1e-300) / peak)
    meets = True
    if bands(design):
        meets = (m.stopband_atten_db >= design.stopband_atten_db
                 and m.passband_ripple_db <= design.passband_ripple_db)
    else:  # no mask: nothing to attenuate or ripple
        out["response"]["stopband_atten_db"] = out["response"]["passband_ripple_db"] = None
    if design.max_error_db is not None:
        meets = meets and out["response"]["max_error_db"] <= design.max_error_db
    out["meets_spec"] = bool(meets)
    rng = np.random.default_rng(ctx.seed)
    x = random_full_scale(spec, cfg["report"]["noise_samples"], rng)
    meas = measure_sqnr(spec, h, x)
    p_in = float(np.mean(to_float(x, spec.input_format) ** 2))
    pred = predict_output_noise(spec, h, p_in)
    out["output"] = _output_overflow(spec, x, cfg, ctx)
    ovf_power = out["output"]["predicted_overflow_power"]
    total = pred.total_power + ovf_power
    out["noise"] = {"sqnr_db": meas.sqnr_db, "measured_power": meas.error_power,
                    "predicted_power": total,
                    "predicted_overflow_power": ovf_power,
                    "prediction_includes_overflow": True,
                    "prediction_error_db": 10 * math.log10(total / meas.error_power)}
    ctx.log(f"fir: bit-true: {_response_text(out['response'])}, SQNR {meas.sqnr_db:.2f} dB, "
            f"noise predicted/measured {out['noise']['prediction_error_db']:+.2f} dB"
            + (f" ({100 * ovf_power / total:.1f} % of it from output overflow)"
               if ovf_power else ""))

    rtl_dir = ctx.out_dir / "rtl"
    rtl_dir.mkdir()
    iface = interface(cfg)
    # the run's seed (the CLI's --seed may override the file's) is part of what made it
    name, cfg_hash = iface.module_name, config_hash({**cfg, "seed": ctx.seed})
    verilog = rtl.fir_verilog(spec, interface=iface, config_hash=cfg_hash)
    (rtl_dir / f"{name}.v").write_text(verilog)
    (rtl_dir / f"{name}_inst.v").write_text(
        rtl.instantiation_template(spec, iface, config_hash=cfg_hash))
    rtl.write_coe(spec, rtl_dir / f"{name}.coe")
    (rtl_dir / "spec.json").write_text(spec_json(spec))
    out["interface"] = rtl.interface_summary(spec, iface, config_hash=cfg_hash)
    out["interface"]["files"] = [f"rtl/{name}.v", f"rtl/{name}_inst.v", f"rtl/{name}.coe"]
    out["lint"] = _lint(rtl_dir / f"{name}.v", name) if cfg["verification"]["lint"] else None
    ctx.log(f"fir: module {name} ({iface.protocol}, reset {iface.reset}), latency "
            f"{out['interface']['latency_clocks']} clocks -> rtl/{name}.v, rtl/{name}_inst.v")

    # verification runs in the background, next to the synthesis below
    finish_verification = _start_verification(spec, verilog, cfg["verification"], ctx, iface)
    try:
        _estimate_and_synthesize(spec, verilog, cfg, ctx, out, name, synthesis)
    except BaseException:
        # an error or a signal: wait for the simulators to stop, but let the first error
        # (or the interrupt) be what the run reports
        with contextlib.suppress(Exception):
            finish_verification()
        raise
    out["verification"] = finish_verification()
    return out


def _output_overflow(spec, x, cfg: dict, ctx) -> dict:
    """The output format, its L1 bound, and overflows counted on random and worst-case input.

    Worst case: the two sign sequences that drive the accumulator to either end of its
    range (each reaches the L1 bound once). An explicit width that overflows is a warning
    with the measured rate (the run goes on: saturation is what the user asked for).
    """
    from ...sim import (
        count_overflows,
        min_output_int_bits,
        predict_overflow,
        rounded_output_range,
        worst_case_input,
    )

    o, fmt = cfg["output"], spec.output_format
    wc = np.concatenate([worst_case_input(spec, +1), worst_case_input(spec, -1)])
    n_rand, n_wc = count_overflows(spec, x), count_overflows(spec, wc)
    pred = predict_overflow(spec)
    lo, hi = rounded_output_range(spec)
    need = min_output_int_bits(spec)
    info = {
        "format": f"Q{fmt.int_bits}.{fmt.frac_bits}", "int_bits": fmt.int_bits,
        "frac_bits": fmt.frac_bits, "word_bits": fmt.word_bits,
        "int_bits_auto": o["int_bits"] == "auto", "int_bits_needed": need,
        "l1_norm": float(np.abs(np.asarray(spec.values)).sum()),
        "l1_bound_over_full_scale": max(hi / fmt.raw_max, lo / fmt.raw_min),
        "can_overflow": need > fmt.int_bits, "overflow_mode": spec.overflow.value,
        "random": {"samples": int(x.size), "overflows": n_rand, "rate": n_rand / x.size},
        "worst_case": {"samples": int(wc.size), "overflows": n_wc},
        "predicted_overflow_rate": pred.rate,
        "predicted_overflow_power": pred.error_power,
    }
    if info["can_overflow"]:
        ctx.warn(f"output Q{fmt.int_bits}.{fmt.frac_bits} can overflow: "
                 f"{100 * n_rand / x.size:.3f} % of {x.size} random full-scale samples "
                 f"(predicted {100 * pred.rate:.3f} %) and {n_wc} of {wc.size} worst-case "
                 f"samples {'saturated' if spec.overflow.value == 'saturate' else 'wrapped'}; "
                 f"output.int_bits: auto ({need}) makes overflow impossible")
    return info


def interface(cfg: dict):
    """The :class:`~bitsmith.rtl.FirInterface` of the config's ``interface`` section."""
    from ...rtl import FirInterface

    i = cfg["interface"]
    return FirInterface(module_name=i["module_name"], prefix=i["prefix"],
                        protocol=i["protocol"], reset=i["reset"])


def config_hash(cfg: dict) -> str:
    """Hash of the validated config (sorted JSON, SHA-256, 16 hex digits): what the emitted
    Verilog's header names as its origin."""
    import hashlib

    text = json.dumps(cfg, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: probability of a sink stall per clock in the flow's AXI4-Stream verification
FLOW_P_STALL = 0.25


def _estimate_and_synthesize(spec, verilog, cfg, ctx, out, top: str = "fir",
                             synthesis=None) -> None:
    """The cost estimate, and yosys' figures (``synthesis``: a result already run on the
    same design, reused)."""
    from ... import hwmodels

    est = hwmodels.fir_cost(spec, target=cfg["target"]["device"])
    out["estimate"] = {"luts": int(est.luts), "ffs": int(est.ffs), "dsps": int(est.dsps),
                       "energy_pj_per_sample": float(est.energy_pj_per_sample)}
    out["synthesis"] = None
    if cfg["synthesis"]["enabled"]:
        if synthesis is None:
            ctx.log(f"fir: synthesizing with yosys ({cfg['target']['device']})")
            s = hwmodels.synthesize(verilog, top, target=cfg["target"]["device"],
                                    dsp=spec.multiplier.value == "dsp")
        else:
            s = synthesis
        out["synthesis"] = {"luts": int(s.luts), "ffs": int(s.ffs), "dsps": int(s.dsps),
                            "carries": int(s.carries), "latches": int(s.latches),
                            "tool": s.tool, "seconds": round(s.seconds, 1)}
        ctx.log(f"  yosys: {s.luts} LUTs, {s.ffs} FFs, {s.dsps} DSPs (estimate {est.luts} "
                f"LUTs, {100 * (est.luts - s.luts) / max(s.luts, 1):+.1f} %)")


def _start_verification(spec, verilog: str, vcfg: dict, ctx, iface=None):
    """Start the batch runner on each simulator in the background; returns a ``finish()``
    that waits and returns the per-simulator summary.

    Verilator gets ``random_samples`` random samples, Icarus (about 1000x slower per sample
    on these netlists) ``icarus_share`` of them, cut into one piece per CPU; both also get
    impulse, step and the worst-case sign sequences, with random input gaps, compared at
    0 LSB with the bit-true model. An AXI4-Stream design (``iface.protocol == "axis"``) also
    gets seeded random sink stalls (``m_axis_tready`` low on :data:`FLOW_P_STALL` of the
    clocks) on both simulators. The simulators are child processes, so threads overlap
    them with each other and with whatever the flow does meanwhile (synthesis).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from ...sim.hdl.fir_bench import verify_fir

    counts = {sim: (vcfg["random_samples"] if sim == "verilator"
                    else round(vcfg["random_samples"] * vcfg["icarus_share"]))
              for sim in vcfg["simulators"]}
    cpus = len(os.sched_getaffinity(0))
    p_stall = FLOW_P_STALL if iface is not None and iface.backpressure else 0.0
    for sim, n in counts.items():
        ctx.log(f"fir: verifying the RTL on {sim} ({n} random samples + impulse, step, "
                f"worst case" + (f"; m_axis_tready stalls on {p_stall:.0%} of the clocks"
                                 if p_stall else "") + ")")

    def one(sim):
        icarus = sim == "icarus"
        return verify_fir(spec, sim, None, counts[sim], seed=ctx.seed, verilog=verilog,
                          jobs=cpus if icarus else 1,
                          simplify=icarus and vcfg["icarus_simplify"], interface=iface,
                          p_stall=p_stall)

    pool = ThreadPoolExecutor(max_workers=max(1, len(counts)))
    futures = {sim: pool.submit(one, sim) for sim in counts}

    def finish() -> dict:
        out = {}
        try:
            for sim, fut in futures.items():
                v = fut.result()
                how = ("reused the cached build" if v.build_cached
                       else f"built in {v.build_seconds:.1f} s")
                ctx.log(f"  {sim}: {v.samples_checked} samples checked, {v.mismatches} "
                        f"mismatches, {v.latency_errors} latency errors, "
                        f"{v.stall_clocks} tready-low clocks, {v.input_wait_clocks} input "
                        f"wait clocks ({how}; simulated in {v.sim_seconds:.1f} s)")
                out[sim] = {"samples_checked": int(v.samples_checked),
                            "mismatches": int(v.mismatches),
                            "latency_errors": int(v.latency_errors),
                            "sink_stall_clocks": int(v.stall_clocks),
                            "input_wait_clocks": int(v.input_wait_clocks),
                            "input_idle_clocks": int(v.idle_clocks),
                            "seconds": round(v.seconds, 1)}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return out

    return finish


def spec_json(spec) -> str:
    """The spec as JSON (what the bench and the report read)."""
    from ...sim.fir._spec import spec_to_json

    return spec_to_json(spec)


def _lint(path: Path, top: str = "fir") -> dict:
    """``verilator --lint-only -Wall``: warnings and errors counted (0 expected) and the log.

    Any waivers :mod:`bitsmith.sim.hdl` still applies for Amaranth's code generator are
    applied here too, and reported.
    """
    import subprocess

    from ...sim import hdl

    root = hdl.ensure_verilator()
    waivers = tuple(getattr(hdl, "AMARANTH_VERILATOR_WAIVERS", ()))
    r = subprocess.run([str(root / "bin" / "verilator"), "--lint-only", "-Wall", *waivers,
                        "--top-module", top, str(path)], capture_output=True, text=True)
    lines = r.stderr.splitlines()
    warnings = sum(1 for line in lines if line.startswith(("%Warning", "%Error")))
    return {"warnings": warnings, "returncode": r.returncode, "waivers": list(waivers),
            "log": r.stderr.strip()[-2000:]}


def _response_text(r: dict) -> str:
    """Stopband, ripple (when there is a mask) and the max response error, for one line."""
    parts = []
    if r["stopband_atten_db"] is not None:
        parts.append(f"stopband {r['stopband_atten_db']:.2f} dB, ripple "
                     f"{r['passband_ripple_db']:.4f} dB")
    parts.append(f"max |H_q - H| {r['max_error_db']:.2f} dB of peak")
    return ", ".join(parts)


def _headline(s: dict) -> list[str]:
    ptype = f"type {s['linear_phase_type']}" if s.get("linear_phase_type") else "non-linear phase"
    lines = [f"FIR {s['taps']} taps ({s['design']}, {ptype}, {s['symmetry']} symmetry, "
             f"{s['variables']} variables): "
             f"{'meets' if s['meets_spec'] else 'MISSES'} the spec -- "
             f"{_response_text(s['response'])}"]
    mu = s["mixed_vs_uniform"]
    if s["shipped"] == "uniform":
        lines.append(f"shipped the uniform design ({mu['uniform']}): {s['shipped_reason']}")
    elif s["uniform"]:
        lines.append(f"LUTs (estimate): mixed {mu['mixed_luts_estimate']} vs best uniform "
                     f"({mu['uniform']}) {mu['uniform_luts_estimate']} "
                     f"({100 * s['lut_saving_vs_uniform']:.1f} % fewer)"
                     + (f"; yosys {mu['mixed_luts_yosys']} vs {mu['uniform_luts_yosys']}"
                        if "mixed_luts_yosys" in mu else ""))
    if s["synthesis"]:
        lines.append(f"yosys: {s['synthesis']['luts']} LUTs, {s['synthesis']['ffs']} FFs, "
                     f"{s['synthesis']['dsps']} DSPs, {s['synthesis']['latches']} latches")
    o = s["output"]
    lines.append(f"output {o['format']}"
                 + (" (int_bits auto: no input can overflow)" if o["int_bits_auto"] else "")
                 + f"; overflows: {o['random']['overflows']} of {o['random']['samples']} random, "
                 f"{o['worst_case']['overflows']} of {o['worst_case']['samples']} worst-case")
    for simulator, v in s["verification"].items():
        lines.append(f"RTL vs bit-true model on {simulator}: {v['samples_checked']} samples, "
                     f"{v['mismatches']} mismatches")
    n = s["noise"]
    lines.append(f"output noise: predicted {n['predicted_power']:.3e}, measured "
                 f"{n['measured_power']:.3e} ({n['prediction_error_db']:+.2f} dB); SQNR "
                 f"{n['sqnr_db']:.2f} dB")
    return lines


FLOW = register_flow(Flow("fir", FirConfig, run,
                          "FIR: coefficient widths under a LUT budget -> verified Verilog"))
