"""The ``dnn_allocation`` report: results.json, report.md and PNG plots."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np

from ...reports import figure, markdown_table, save

_UNITS = {"weight_bytes": "bytes", "bops": "bit-ops", "energy_uj": "uJ",
          "latency_cycles": "cycles"}


def aggregate(per_seed: list[dict]) -> dict[str, list[dict]]:
    """method -> per budget: mean / std / min / max test accuracy over seeds."""
    acc = defaultdict(lambda: defaultdict(list))
    bud = defaultdict(lambda: defaultdict(list))
    wb = defaultdict(lambda: defaultdict(list))
    for s in per_seed:
        for r in s["results"]:
            if "skipped" in r:
                continue
            acc[r["method"]][r["budget_index"]].append(r["accuracy"])
            bud[r["method"]][r["budget_index"]].append(r["budget"])
            wb[r["method"]][r["budget_index"]].append(r["avg_w_bits"])
    out = {}
    for m in acc:
        rows = []
        for b in sorted(acc[m]):
            a = np.asarray(acc[m][b])
            rows.append({"budget_index": b, "budget": float(np.mean(bud[m][b])),
                         "mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1
                         else 0.0, "min": float(a.min()), "max": float(a.max()),
                         "n": len(a), "avg_w_bits": float(np.mean(wb[m][b]))})
        out[m] = rows
    return out


def solver_gaps(per_seed: list[dict]) -> dict[str, float]:
    """Largest relative objective gap of mckp_greedy to the exact optimum, and whether
    mckp_dp and ilp reach the same objective, over all seeds and budgets."""
    gap, agree, n = 0.0, True, 0
    for s in per_seed:
        by = defaultdict(dict)
        for r in s["results"]:
            if "skipped" not in r:
                by[r["budget_index"]][r["method"]] = r["model_error"]
        for d in by.values():
            exact = [d[m] for m in ("mckp_dp", "ilp") if m in d]
            if not exact:
                continue
            opt = min(exact)
            if len(exact) == 2:
                agree &= bool(abs(exact[0] - exact[1]) <= 1e-9 * max(abs(opt), 1e-300))
            if "mckp_greedy" in d:
                gap = max(gap, (d["mckp_greedy"] - opt) / max(abs(opt), 1e-300))
                n += 1
    return {"greedy_max_rel_gap": gap, "dp_ilp_agree": agree, "compared_budgets": n}


def _plots(out, cfg, per_seed, agg) -> list[str]:
    files = []
    metric = cfg["allocation"]["metric"]
    fig, ax = figure(figsize=(6.8, 4.2))
    for m, rows in sorted(agg.items()):
        x = [r["budget"] for r in rows]
        ax.errorbar(x, [100 * r["mean"] for r in rows], yerr=[100 * r["std"] for r in rows],
                    marker="o", ms=3, capsize=2, label=m)
    ax.axhline(100 * np.mean([s["w8a8_accuracy"] for s in per_seed]), ls="--", color="k",
               lw=1, label="W8A8")
    ax.set_xlabel(f"budget: {metric} ({_UNITS[metric]})")
    ax.set_ylabel(f"test accuracy (%), mean +- std over {len(per_seed)} seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, out / "accuracy_vs_budget.png")
    files.append("accuracy_vs_budget.png")

    s0 = per_seed[0]
    names = s0["layers"]
    mid = len(cfg["allocation"]["sweep"]) // 2
    fig, ax = figure(figsize=(6.8, 3.8))
    shown = [r for r in s0["results"] if r["budget_index"] == mid and "skipped" not in r]
    width = 0.8 / max(len(shown), 1)
    for k, r in enumerate(shown):
        ax.bar(np.arange(len(names)) + k * width, [int(b[1:].split("a")[0]) for b in r["bits"]],
               width, label=r["method"])
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    ax.set_ylabel("weight bits")
    ax.set_title(f"bits per layer at sweep point {mid} (seed {s0['seed']})", fontsize=9)
    ax.legend(fontsize=7)
    save(fig, out / "bits_per_layer.png")
    files.append("bits_per_layer.png")

    fig, ax = figure(figsize=(6.8, 3.8))
    for k, s in enumerate(per_seed):
        t = s["traces"]
        ax.errorbar(np.arange(len(names)) + 0.1 * k, t["mean"], yerr=t["halfwidth"], fmt="o",
                    ms=3, capsize=2, label=f"seed {s['seed']} ({t['n_probes']} probes)")
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_yscale("log")
    ax.set_ylabel("Hessian block trace (CI)")
    ax.legend(fontsize=7)
    save(fig, out / "hessian_traces.png")
    files.append("hessian_traces.png")
    return files


def write(cfg: dict, ctx, per_seed: list[dict], extra: dict[str, Any]) -> dict[str, Any]:
    """Write every output file and return the summary."""
    out = ctx.out_dir
    # whether a checkpoint was trained or loaded differs between runs: not in results.json
    checkpoints = {str(s["seed"]): s["checkpoint"] for s in per_seed}
    per_seed = [{k: v for k, v in s.items() if k != "checkpoint"} for s in per_seed]
    agg = aggregate(per_seed)
    gaps = solver_gaps(per_seed)
    doc = {"config": cfg, "per_seed": per_seed, "aggregate": agg, "solver_gaps": gaps,
           **extra}
    (out / "results.json").write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n",
                                      encoding="utf-8")
    files = ["results.json", "report.md"]
    if cfg["plots"]:
        files += _plots(out, cfg, per_seed, agg)
    metric = cfg["allocation"]["metric"]
    seeds = [s["seed"] for s in per_seed]
    lines = [f"# dnn_allocation: {cfg['name'] or cfg['model']['arch']}", "",
             f"Seeds {seeds}; accelerator {cfg['allocation']['accelerator']}; sweep metric "
             f"{metric} ({_UNITS[metric]}); weight bits {cfg['allocation']['w_bits']}, "
             f"activation bits {cfg['allocation']['a_bits']}.", ""]
    fl = np.array([s["float_accuracy"] for s in per_seed])
    w8 = np.array([s["w8a8_accuracy"] for s in per_seed])
    lines += [f"Float test accuracy {100 * fl.mean():.2f} % (+- {100 * fl.std():.2f}); "
              f"W8A8 PTQ {100 * w8.mean():.2f} % (+- {100 * w8.std():.2f}).", "",
              "## Accuracy vs budget (test, mean +- std over seeds)", ""]
    methods = sorted(agg)
    nb = len(cfg["allocation"]["sweep"])
    header = ["budget", *methods]
    rows = []
    for b in range(nb):
        row = []
        budget = None
        for m in methods:
            r = next((r for r in agg[m] if r["budget_index"] == b), None)
            if r is None:
                row.append("-")
                continue
            budget = r["budget"]
            row.append(f"{100 * r['mean']:.2f} +- {100 * r['std']:.2f} "
                       f"({r['avg_w_bits']:.2f} b)")
        rows.append([f"{budget:.6g}" if budget is not None else "-", *row])
    lines += [markdown_table(header, rows),
              "Cells: accuracy (%) +- std, and the average weight bits (params-weighted).", "",
              "## Solvers on the same tables", "",
              f"mckp_greedy largest relative objective gap to the exact optimum: "
              f"{100 * gaps['greedy_max_rel_gap']:.3f} % over {gaps['compared_budgets']} "
              f"(seed, budget) points; mckp_dp and ilp agree: {gaps['dp_ilp_agree']}.", "",
              "## Hessian traces (Hutchinson, per layer)", ""]
    names = per_seed[0]["layers"]
    trow = []
    for s in per_seed:
        t = s["traces"]
        trow.append([s["seed"], t["n_probes"], t["converged"],
                     ", ".join(t.get("unconverged", [])) or "-",
                     *[f"{m:.4g} +- {h:.2g}" for m, h in zip(t["mean"], t["halfwidth"],
                                                            strict=True)]])
    lines += [markdown_table(["seed", "probes", "converged", "not converged", *names], trow),
              "Not converged: layers whose half-width is above rel_tol * |mean| when the "
              "probe limit was reached (their sensitivities are the noisier ones).", ""]
    if "mqbench" in extra:
        mq = extra["mqbench"]
        lines += ["## Proxy ranking on the small MQ-Bench", "",
                  f"{mq['n_configs']} configurations (weight bits 2-4 per layer, 8-bit "
                  f"activations), PTQ test accuracy {100 * mq['acc_min']:.1f}-"
                  f"{100 * mq['acc_max']:.1f} %; Spearman on the {mq['n_heldout']} held-out "
                  f"configurations (top-k % by predicted score).", "",
                  markdown_table(["proxy", "@20 %", "@50 %", "@100 %"],
                                 [[k, *[f"{v:.3f}" for v in mq["spearman"][k]]]
                                  for k in mq["spearman"]]),
                  f"Evolved program: `{mq['evolved_program']}`.", ""]
    if "multipoint" in extra:
        lines += ["## Multipoint quantization at equal accelerator cost", "",
                  extra["multipoint"]["markdown"], ""]
    lines += ["Plots: " + ", ".join(f"`{f}`" for f in files if f.endswith(".png")), ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    best = None
    mid = nb // 2
    for m in methods:
        r = next((r for r in agg[m] if r["budget_index"] == mid), None)
        if r is not None and (best is None or r["mean"] > best[1]["mean"]):
            best = (m, r)
    gap_line = (f"mckp_greedy within {100 * gaps['greedy_max_rel_gap']:.3f} % of the exact "
                f"objective at every budget" if gaps["compared_budgets"] else
                "mckp_greedy not compared (not run, or several budgets)")
    headline = [f"{cfg['model']['arch']} on {cfg['allocation']['accelerator']}: float "
                f"{100 * fl.mean():.2f} %, W8A8 {100 * w8.mean():.2f} % over {len(seeds)} seeds",
                f"{gap_line}; dp == ilp: {gaps['dp_ilp_agree']}"]
    if best is not None:
        headline.append(f"budget {best[1]['budget']:.6g} {_UNITS[metric]}: best {best[0]} "
                        f"{100 * best[1]['mean']:.2f} +- {100 * best[1]['std']:.2f} %")
    return {"ok": True, "headline": headline, "files": sorted(files),
            "checkpoints": checkpoints,
            "solver_gaps": gaps,
            "accuracy": {m: [round(r["mean"], 6) for r in agg[m]] for m in methods}}
