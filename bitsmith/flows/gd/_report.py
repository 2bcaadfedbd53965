"""The gd report: gap vs budget with bands, bits per step, PPSO vs GC-PSO convergence."""

from __future__ import annotations

import numpy as np

from ...reports import figure, markdown_table, save
from ...sim.gd import Allocation, GdSpec

__all__ = ["write_report"]


def _plot_gap_vs_budget(cfg, spec, rows, path):
    fig, ax = figure(figsize=(6.4, 4.2))
    methods = cfg["allocation"]["methods"]
    for m in methods:
        r = [row for row in rows if row["method"] == m]
        x = np.array([row["budget"] for row in r]) / spec.n_vars
        mu = np.array([row["log10_gap_mean"] for row in r])
        h = np.array([row["log10_gap_ci95"] for row in r])
        (line,) = ax.plot(x, 10 ** mu, marker="o", ms=3, label=m)
        ax.fill_between(x, 10 ** (mu - h), 10 ** (mu + h), color=line.get_color(), alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("budget (mean bits per variable)")
    ax.set_ylabel("relative optimality gap (test draws)")
    ax.set_title("geometric mean over seeds, 95 % CI band", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, path)


def _plot_bits(cfg, spec, pieces, path):
    budgets = cfg["allocation"]["budgets"]
    methods = cfg["allocation"]["methods"]
    nb = len(budgets)
    fig, axes = figure(1, nb, figsize=(3.4 * nb, 3.2), squeeze=False, sharey=True)
    what = {"step": "step t", "block": "block k", "step_block": "variable (step-major)"}
    for j, (ax, budget) in enumerate(zip(axes[0], budgets, strict=True)):
        for m in methods:
            x = pieces[(0, j)][m]["x"]
            ax.step(np.arange(len(x)), x, where="mid", label=m, lw=1.2)
        ax.set_title(f"budget {budget} bits (seed 0)", fontsize=9)
        ax.set_xlabel(what[spec.allocation.value])
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("bits")
    axes[0][-1].legend(fontsize=6)
    save(fig, path)


def _plot_convergence(cfg, pieces, path):
    budgets = cfg["allocation"]["budgets"]
    n_seeds = cfg["evaluation"]["n_seeds"]
    swarms = [m for m in ("ppso", "gcpso") if m in cfg["allocation"]["methods"]]
    nb = len(budgets)
    fig, axes = figure(1, nb, figsize=(3.4 * nb, 3.2), squeeze=False)
    colors = {"ppso": "tab:orange", "gcpso": "tab:blue"}
    for j, (ax, budget) in enumerate(zip(axes[0], budgets, strict=True)):
        for m in swarms:
            infeas = sum(pieces[(s, j)][m]["n_infeasible"] for s in range(n_seeds))
            evals = sum(pieces[(s, j)][m]["n_evals"] for s in range(n_seeds))
            for s in range(n_seeds):
                h = pieces[(s, j)][m]["history"]
                ev = np.array(h["n_evals"], float)
                best = np.array([np.nan if v is None else v for v in h["best_error"]])
                ok = np.isfinite(best)
                label = (f"{m}: {infeas}/{evals} infeasible evals ({n_seeds} seeds)"
                         if s == 0 else None)
                ax.step(ev[ok], best[ok], where="post", color=colors[m],
                        lw=1.4 if s == 0 else 0.5, alpha=1.0 if s == 0 else 0.35,
                        label=label)
        if "exact" in pieces[(0, j)]:
            ax.axhline(pieces[(0, j)]["exact"]["train_gap"], ls="--", color="k", lw=1,
                       label="exact (seed 0)")
        ax.set_yscale("log")
        ax.set_title(f"budget {budget} bits", fontsize=9)
        ax.set_xlabel("evaluations")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("best feasible gap (search draws)")
    save(fig, path)


def _verdicts(cfg, rows):
    """Plain sentences: GC-PSO vs PPSO and vs constant, per budget."""
    out = []
    methods = cfg["allocation"]["methods"]
    for budget in cfg["allocation"]["budgets"]:
        by = {r["method"]: r for r in rows if r["budget"] == budget}
        if "gcpso" in by and "ppso" in by:
            d, h = by["gcpso"]["vs_ppso_log10_diff"], by["gcpso"]["vs_ppso_ci95"]
            word = ("beats" if d + h < 0 else "is beaten by" if d - h > 0
                    else "matches (difference within the CI)")
            out.append(f"- budget {budget}: GC-PSO {word} PPSO: log10 gap difference "
                       f"{d:+.3f} +- {h:.3f} (paired over seeds) at {by['gcpso']['n_evals_mean']:.0f}"
                       f" vs {by['ppso']['n_evals_mean']:.0f} mean evaluations per seed; infeasible "
                       f"evaluations per seed GC-PSO {by['gcpso']['n_infeasible_mean']:.0f}, "
                       f"PPSO {by['ppso']['n_infeasible_mean']:.0f}. On the search draws (the "
                       f"objective both minimized): "
                       f"{by['gcpso']['vs_ppso_train_log10_diff']:+.3f} +- "
                       f"{by['gcpso']['vs_ppso_train_ci95']:.3f}.")
        n_seeds = cfg["evaluation"]["n_seeds"]
        if "ppso" in by and by["ppso"]["n_feasible"] < n_seeds:
            out.append(f"- budget {budget}: PPSO found no feasible point in "
                       f"{n_seeds - by['ppso']['n_feasible']} of {n_seeds} seeds (scored as "
                       f"gap 1, no progress).")
        for m in ("gcpso", "ppso"):
            if m in by and "constant" in methods:
                d, h = by[m]["vs_constant_log10_diff"], by[m]["vs_constant_ci95"]
                word = ("beats constant bits by more than the CI" if d + h < 0
                        else "does NOT beat constant bits by more than the CI")
                out.append(f"- budget {budget}: {m} {word}: {d:+.3f} +- {h:.3f} decades "
                           f"(gap x{10 ** d:.3g}).")
    return out


def write_report(cfg: dict, ctx, spec: GdSpec, pieces: dict, summary: dict) -> dict:
    """Write report.md and the plots; return the checks (name -> passed)."""
    rows = summary["rows"]
    out = ctx.out_dir
    _plot_gap_vs_budget(cfg, spec, rows, out / "gap_vs_budget.png")
    _plot_bits(cfg, spec, pieces, out / "bits.png")
    if any(m in cfg["allocation"]["methods"] for m in ("ppso", "gcpso")):
        _plot_convergence(cfg, pieces, out / "convergence.png")
    # PPSO may end over the budget (its penalty is soft): that is reported, not a failure
    checks = {"all_feasible": all(r["all_feasible"] for r in rows if r["method"] != "ppso")}
    if "gcpso" in cfg["allocation"]["methods"]:
        checks["gcpso_no_infeasible"] = all(r["n_infeasible_total"] == 0 for r in rows
                                            if r["method"] == "gcpso")
    if "exact" in cfg["allocation"]["methods"]:
        checks["exact_not_beaten"] = all(r["gap_to_exact_mean"] >= -1e-9 for r in rows)
    has_exact = "exact" in cfg["allocation"]["methods"]
    header = ["budget (bits)", "method", "gap (geo. mean)", "log10 gap +- 95 % CI",
              "vs constant (dec.)", "evaluations", "infeasible evaluations"]
    if has_exact:
        header.append("gap to exact (search draws)")
    table = []
    for r in rows:
        vs = ("" if "vs_constant_log10_diff" not in r
              else f"{r['vs_constant_log10_diff']:+.2f} +- {r['vs_constant_ci95']:.2f}")
        line = [r["budget"], r["method"], f"{r['gap_geomean']:.3g}",
                f"{r['log10_gap_mean']:.2f} +- {r['log10_gap_ci95']:.2f}", vs,
                f"{r['n_evals_mean']:.0f}", f"{r['n_infeasible_mean']:.0f}"]
        if has_exact:
            line.append(f"{100 * r['gap_to_exact_mean']:.3g} %")
        table.append(line)
    p, d, a, ev = cfg["problem"], cfg["descent"], cfg["allocation"], cfg["evaluation"]
    what = {Allocation.STEP: f"one width per step ({spec.n_steps} variables)",
            Allocation.BLOCK: f"one width per coordinate block ({spec.n_blocks} variables)",
            Allocation.STEP_BLOCK: f"one width per step and block ({spec.n_vars} variables)"}
    text = [
        "# Quantized gradient descent: bits per step under a total-bits budget", "",
        f"{p['objective']} on {p['dataset']} data ({p['n_samples']} samples per draw), "
        f"T = {d['n_steps']} steps of size {d['step_scale']}/L from w_0 = 0; the "
        f"{d['target']} is quantized at step t to b_t bits, range rule `{d['range_rule']}`, "
        f"{d['rounding']}, {d['overflow']}; allocation: {what[spec.allocation]}, widths "
        f"{a['min_bits']}-{a['max_bits']} bits; cost = total bits (no hardware model beyond "
        f"the sum of bits).", "",
        f"Metric: relative optimality gap (f(w_T) - f*) / (f(w_0) - f*) averaged over "
        f"{ev['n_test_draws']} fresh test draws, for allocations searched on "
        f"{ev['n_draws']} other draws; over {ev['n_seeds']} seeds (data and search), "
        f"geometric mean and 95 % t-interval of log10. PPSO and GC-PSO get the same "
        f"evaluation cap ({a['max_evaluations']}; repeated points are cached and not counted, "
        f"so a swarm that has converged stops below it); schedules span {a['schedule_span_bits']} "
        f"bits before clipping. Seed {ctx.seed}.", "",
        markdown_table(header, table), "",
        "## Verdicts", "", *_verdicts(cfg, rows), "",
        "## Checks", "", *[f"- {k}: {'pass' if v else 'FAIL'}" for k, v in checks.items()], "",
        "![optimality gap vs budget](gap_vs_budget.png)", "",
        "![bits per step](bits.png)", "",
    ]
    if (out / "convergence.png").exists():
        text += ["![PPSO vs GC-PSO convergence](convergence.png)", ""]
    (out / "report.md").write_text("\n".join(text))
    return checks
