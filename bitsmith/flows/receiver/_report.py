"""Statistics over seeds, the report (report.md), results.json and the plots."""

from __future__ import annotations

import json
import math

import numpy as np

from ...hwmodels import receiver as hwr
from ...reports import figure, markdown_table, save
from ...sim import receiver as rx


def mean_ci(values) -> dict:
    """Mean and 95 % Student-t interval over seeds of the finite values (None dropped)."""
    from scipy.stats import t

    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
    n = int(v.size)
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    m = float(v.mean())
    if n == 1:
        return {"mean": m, "lo": None, "hi": None, "n": 1}
    h = float(t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return {"mean": m, "lo": m - h, "hi": m + h, "n": n}


def _design_index(cfg) -> int:
    snrs = np.asarray(cfg["system"]["snr_db"])
    return int(np.argmin(np.abs(snrs - cfg["system"]["design_snr_db"])))


def _ber_detector(cfg) -> str:
    dets = cfg["monte_carlo"]["detectors"]
    return "bussgang" if "bussgang" in dets else dets[0]


def summarize(cfg: dict, pieces: list[dict]) -> dict:
    """Per budget and method: sum rate, BER, evaluations (mean and 95 % CI over seeds),
    paired differences between methods, and the small instance's gaps."""
    nb = len(cfg["budget"]["values"])
    methods = cfg["search"]["methods"]
    k, det = _design_index(cfg), _ber_detector(cfg)
    out = []
    for j in range(nb):
        ps = sorted((p for p in pieces if p["budget_index"] == j), key=lambda p: p["seed_index"])
        row = {"budget_value": cfg["budget"]["values"][j], "budget": ps[0]["budget"],
               "unquantized_rate": mean_ci([p["rate_unquantized"] for p in ps]),
               "methods": {}, "paired": {}}
        for m in methods:
            rs = [p["methods"][m] for p in ps]
            stat = {"sum_rate": mean_ci([r["sum_rate"] for r in rs]),
                    "rate_loss": mean_ci([r["rate_loss"] for r in rs]),
                    "mse": mean_ci([r["mse"] for r in rs]),
                    "n_evals": mean_ci([r["n_evals"] for r in rs]),
                    "n_infeasible": mean_ci([r["n_infeasible"] for r in rs]),
                    "n_infeasible_total": int(sum(r["n_infeasible"] for r in rs)),
                    "n_feasible_answers": int(sum(r["feasible"] for r in rs)),
                    "n_seeds": len(rs)}
            if cfg["monte_carlo"]["enabled"]:
                stat["ber"] = mean_ci([r["ber"][k][det]["ber"] if r.get("ber") else None
                                       for r in rs])
            if "small" in ps[0]:
                gaps = [p["small"]["methods"][m]["gap"] for p in ps]
                fin = [g for g in gaps if g is not None]
                stat["small_gap"] = mean_ci(gaps)
                stat["small_gap_max"] = max(fin) if fin else None
                stat["small_exact_hits"] = int(sum(1 for g in fin if g <= 1e-9))
                stat["small_n_evals"] = mean_ci([p["small"]["methods"][m]["n_evals"]
                                                 for p in ps])
            row["methods"][m] = stat
        for a, b in (("gcpso", "ppso"), ("gcpso", "uniform"), ("ppso", "uniform"),
                     ("gcpso", "greedy")):
            if a in methods and b in methods:
                d = [None if (p["methods"][a]["sum_rate"] is None
                              or p["methods"][b]["sum_rate"] is None)
                     else p["methods"][a]["sum_rate"] - p["methods"][b]["sum_rate"]
                     for p in ps]
                row["paired"][f"{a}-{b}"] = mean_ci(d)
        if "small" in ps[0]:
            row["small_optimum_evals"] = mean_ci([p["small"]["optimum"]["n_evals"] for p in ps])
            row["small_budget"] = ps[0]["small"]["budget"]
        out.append(row)
    return {"budgets": out, "design_snr_index": k, "ber_detector": det}


def _clean(obj):
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _fmt_ci(st, digits=4) -> str:
    if st is None or st["mean"] is None:
        return "--"
    if st["lo"] is None:
        return f"{st['mean']:.{digits}g}"
    return f"{st['mean']:.{digits}g} [{st['lo']:.{digits}g}, {st['hi']:.{digits}g}]"


def _budget_axis(cfg, spec, results):
    vals = [r["budget"] for r in results["budgets"]]
    shown = [hwr.cost_to_display(spec, v)[0] for v in vals]
    return np.asarray(shown), hwr.cost_to_display(spec, 1)[1]


def _band_plot(ax, x, stats, label):
    m = np.array([np.nan if s["mean"] is None else s["mean"] for s in stats])
    lo = np.array([np.nan if s["lo"] is None else s["lo"] for s in stats])
    hi = np.array([np.nan if s["hi"] is None else s["hi"] for s in stats])
    (line,) = ax.plot(x, m, marker="o", ms=3, label=label)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)


def write_report(cfg: dict, ctx, pieces: list[dict], results: dict) -> dict:
    """Write results.json, report.md and the plots; return the summary."""
    from ._flow import make_spec

    spec = make_spec(cfg)
    out = ctx.out_dir
    methods = cfg["search"]["methods"]
    x, unit = _budget_axis(cfg, spec, results)
    B = results["budgets"]
    mc = cfg["monte_carlo"]["enabled"]

    fig, ax = figure(figsize=(6.4, 4.2))
    for m in methods:
        _band_plot(ax, x, [r["methods"][m]["sum_rate"] for r in B], m)
    _band_plot(ax, x, [r["unquantized_rate"] for r in B], "unquantized")
    ax.set_xlabel(f"ADC budget ({unit})")
    ax.set_ylabel("AQNM sum rate (bit/s/Hz)")
    ax.set_title(f"Nr={spec.n_rx}, K={spec.n_users}, {cfg['system']['design_snr_db']:g} dB; "
                 f"band: 95 % CI over {cfg['search']['n_seeds']} seeds", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out / "rate_vs_budget.png")

    k, det = results["design_snr_index"], results["ber_detector"]
    snr_k = cfg["system"]["snr_db"][k]
    if mc:
        fig, ax = figure(figsize=(6.4, 4.2))
        for m in methods:
            _band_plot(ax, x, [r["methods"][m]["ber"] for r in B], m)
        ax.set_yscale("log")
        ax.set_xlabel(f"ADC budget ({unit})")
        ax.set_ylabel(f"BER ({det}, {snr_k:g} dB, Monte Carlo)")
        ax.set_title("band: 95 % CI over seeds", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, out / "ber_vs_budget.png")

    # allocations of seed 0, sorted by channel gain
    p0 = sorted((p for p in pieces if p["seed_index"] == 0), key=lambda p: p["budget_index"])
    fig, axes = figure(len(p0), 1, figsize=(6.4, 1.9 * len(p0) + 0.6), sharex=True,
                       squeeze=False)
    for ax, p in zip(axes[:, 0], p0, strict=True):
        rank = np.arange(spec.n_rx)
        offsets = np.linspace(-0.2, 0.2, len(methods)) if len(methods) > 1 else [0.0]
        for m, off in zip(methods, offsets, strict=True):
            ax.plot(rank, np.asarray(p["methods"][m]["bits_by_gain"]) + off, marker="o",
                    ms=2.5, lw=0.6, label=m)
        ax2 = ax.twinx()
        ax2.plot(rank, p["gains_sorted"], color="0.6", ls=":", lw=1)
        ax2.set_ylabel("|h_i|^2", fontsize=7, color="0.5")
        v, u = hwr.cost_to_display(spec, p["budget"])
        ax.set_ylabel("bits (methods offset)")
        ax.set_title(f"seed 0, budget {v:.4g} {u}", fontsize=8)
    axes[-1, 0].set_xlabel("antenna, sorted by channel gain (strongest first)")
    axes[0, 0].legend(fontsize=7, ncol=len(methods))
    save(fig, out / "allocation.png")

    # convergence: PPSO vs GC-PSO (seed 0, every budget)
    pso = [m for m in ("gcpso", "ppso") if m in methods]
    if pso:
        fig, axes = figure(1, len(p0), figsize=(3.2 * len(p0), 3.4), squeeze=False)
        for ax, p in zip(axes[0], p0, strict=True):
            for m in pso:
                h = p["methods"][m]["history"]
                ev = np.asarray(h["n_evals"], float)
                be = np.array([np.nan if v is None or not math.isfinite(v) else v
                               for v in h["best_error"]])
                ax.step(ev, be, where="post",
                        label=f"{m} ({p['methods'][m]['n_infeasible']} infeasible)")
            v, u = hwr.cost_to_display(spec, p["budget"])
            ax.set_title(f"budget {v:.4g} {u}", fontsize=8)
            ax.set_xlabel("evaluations")
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        axes[0, 0].set_ylabel("best feasible rate loss (bit/s/Hz)")
        save(fig, out / "convergence.png")

    if mc:
        pm = p0[len(p0) // 2]
        fig, ax = figure(figsize=(6.4, 4.2))
        snrs = cfg["system"]["snr_db"]
        styles = {"zf": ":", "lmmse": "--", "bussgang": "-"}
        colors = {"gcpso": "C0", "uniform": "C1", "unquantized": "k"}
        for d in cfg["monte_carlo"]["detectors"]:
            curves = [(m, pm["methods"][m].get("ber")) for m in ("gcpso", "uniform")
                      if m in methods]
            curves.append(("unquantized", pm["ber_unquantized"]))
            for m, bers in curves:
                if bers and all(b is not None for b in bers):
                    ax.semilogy(snrs, [max(b[d]["ber"], 1e-7) for b in bers], ls=styles[d],
                                color=colors[m], marker="o", ms=3, label=f"{m}, {d}")
        v, u = hwr.cost_to_display(spec, pm["budget"])
        ax.set_title(f"seed 0, budget {v:.4g} {u} (BER floor 1e-7 shown where 0)", fontsize=9)
        ax.set_xlabel("Es/N0 per antenna (dB)")
        ax.set_ylabel("BER (Monte Carlo)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
        save(fig, out / "ber_vs_snr.png")

    (out / "results.json").write_text(json.dumps(_clean({"config": cfg, "summary": results,
                                                         "pieces": pieces}),
                                                 indent=1, sort_keys=True) + "\n")
    md, headline, claims = _markdown(cfg, spec, results, x, unit)
    (out / "report.md").write_text(md)
    ok = all(r["methods"][m]["n_feasible_answers"] == r["methods"][m]["n_seeds"]
             for r in B for m in methods if m != "ppso")
    if "gcpso" in methods:
        ok = ok and all(r["methods"]["gcpso"]["n_infeasible_total"] == 0 for r in B)
    return {"ok": bool(ok), "headline": headline, "claims": claims,
            "budgets": _clean(results["budgets"])}


def _markdown(cfg, spec, results, x, unit):
    B = results["budgets"]
    methods = cfg["search"]["methods"]
    sysc, sc = cfg["system"], cfg["search"]
    mc = cfg["monte_carlo"]["enabled"]
    k, det = results["design_snr_index"], results["ber_detector"]
    lines = [f"# Per-antenna ADC allocation: Nr = {spec.n_rx}, K = {spec.n_users}",
             "",
             f"{sysc['modulation'].upper()}, {sysc['channel']} channel"
             + (f" (r = {sysc['correlation']:g})" if sysc["channel"] == "exp_corr" else "")
             + f", {spec.quantizer} quantizer, ADC bits {spec.min_bits}..{spec.max_bits}, "
             f"design SNR {sysc['design_snr_db']:g} dB, seed {cfg['seed']}, "
             f"{sc['n_seeds']} seeds (channel realizations and search seeds).",
             "",
             "* **Objective**: AQNM sum-rate loss (bit/s/Hz) of the Bussgang LMMSE receiver "
             "for the seed's channel at the design SNR; Monte Carlo BER checks the answers.",
             "* **AGC**: ideal block AGC per antenna (input scaled to unit variance per I/Q "
             "from Es ||h_i||^2 + N0); uniform mid-rise steps are the MSE-optimal Gaussian "
             "steps (Max 1960): " + ", ".join(f"{b}b {rx.optimal_uniform_step(b):.4g}"
                                              for b in range(spec.min_bits,
                                                             min(spec.max_bits, 8) + 1)) + ".",
             f"* **Cost**: {spec.cost_model}"
             + (f", FOM {spec.fom_j * 1e15:g} fJ/step, fs {spec.fs_hz / 1e6:g} MHz: "
                f"{hwr.cost_unit_w(spec) * 1e3:.4g} mW x 2^b per antenna (I+Q)"
                if spec.cost_model == "walden" else ": 2 b bits per antenna (I+Q)") + ".",
             f"* GC-PSO and PPSO get the same cap of {sc['max_evaluations']} evaluations "
             f"({sc['n_particles']} particles); PPSO uses penalty exponent 1 with weight "
             f"growth 1.2 per iteration. GC-PSO's repair uses an analytic first-order "
             f"rate sensitivity (one K x K inverse per particle, not counted as an "
             f"evaluation). Evaluations count distinct points (repeats are cached), so a "
             f"converged GC-PSO swarm stops spending them before the cap.",
             "* Intervals: 95 % Student-t over seeds; paired differences use the same "
             "channel for both methods.", ""]
    headline, claims = [], []
    for r, xv in zip(B, x, strict=True):
        lines.append(f"## Budget {r['budget_value']:g} ({cfg['budget']['unit']}) = "
                     f"{xv:.4g} {unit} (integer cost {r['budget']})")
        lines.append("")
        hdr = ["method", "sum rate (bit/s/Hz)", "rate loss", "Bussgang MSE"]
        if mc:
            hdr.append(f"BER {det} @ {sysc['snr_db'][k]:g} dB")
        hdr += ["evaluations", "infeasible evaluations", "feasible answers"]
        rows = []
        for m in methods:
            st = r["methods"][m]
            row = [m, _fmt_ci(st["sum_rate"]), _fmt_ci(st["rate_loss"]), _fmt_ci(st["mse"])]
            if mc:
                row.append(_fmt_ci(st["ber"], 3))
            row += [_fmt_ci(st["n_evals"]), _fmt_ci(st["n_infeasible"]),
                    f"{st['n_feasible_answers']}/{st['n_seeds']}"]
            rows.append(row)
        rows.append(["unquantized", _fmt_ci(r["unquantized_rate"]), "0", "", *([""] * mc),
                     "", "", ""])
        lines.append(markdown_table(hdr, rows))
        for pair, st in r["paired"].items():
            a, b = pair.split("-")
            if st["mean"] is None:
                continue
            if st["lo"] is not None and st["lo"] > 0:
                verdict = f"{a} beats {b} by more than the interval"
            elif st["hi"] is not None and st["hi"] < 0:
                verdict = f"{a} is worse than {b} beyond the interval"
            else:
                verdict = f"{a} and {b} are not separated by the interval"
            txt = f"{pair}: {_fmt_ci(st)} bit/s/Hz: {verdict}"
            lines.append(f"* {txt}")
            claims.append(f"budget {r['budget_value']:g}: {txt}")
        if "small_budget" in r:
            lines += ["", f"Small instance (Nr = {cfg['small_instance']['n_rx']}, "
                      f"K = {cfg['small_instance']['n_users']}, integer budget "
                      f"{r['small_budget']}): exact optimum by enumeration of the maximal "
                      f"feasible points ({_fmt_ci(r['small_optimum_evals'])} evaluations).", ""]
            rows = [[m, _fmt_ci(r["methods"][m]["small_gap"]),
                     "--" if r["methods"][m]["small_gap_max"] is None
                     else f"{r['methods'][m]['small_gap_max']:.4g}",
                     f"{r['methods'][m]['small_exact_hits']}/{r['methods'][m]['n_seeds']}",
                     _fmt_ci(r["methods"][m]["small_n_evals"])] for m in methods]
            lines.append(markdown_table(["method", "gap to optimum (bit/s/Hz)", "max gap",
                                         "exact", "evaluations"], rows))
        lines.append("")
        hl = f"budget {xv:.4g} {unit}: " + "  ".join(
            f"{m} {_fmt_ci(r['methods'][m]['sum_rate'], 4)}" for m in methods)
        headline.append(hl + " bit/s/Hz")
    for pair in ("gcpso-ppso", "gcpso-uniform", "ppso-uniform"):
        sts = [r["paired"][pair] for r in B if pair in r["paired"]]
        if sts:
            a, b = pair.split("-")
            win = sum(1 for st in sts if st["lo"] is not None and st["lo"] > 0)
            lose = sum(1 for st in sts if st["hi"] is not None and st["hi"] < 0)
            headline.append(f"{a} vs {b} (paired sum rate): better beyond the 95 % CI at "
                            f"{win}/{len(sts)} budgets, worse beyond it at {lose}")
    if "gcpso" in methods:
        n_inf = sum(r["methods"]["gcpso"]["n_infeasible_total"] for r in B)
        headline.append(f"gcpso infeasible evaluations: {n_inf}")
    lines += ["## Verdict", ""] + [f"* {h}" for h in headline[len(B):]] + [""]
    lines += ["## Plots", "", "![sum rate vs budget](rate_vs_budget.png)", ""]
    if mc:
        lines += ["![BER vs budget](ber_vs_budget.png)", "", "![BER vs SNR](ber_vs_snr.png)", ""]
    lines += ["![allocations sorted by channel gain](allocation.png)", "",
              "![PPSO vs GC-PSO convergence](convergence.png)", ""]
    return "\n".join(lines) + "\n", headline, claims
