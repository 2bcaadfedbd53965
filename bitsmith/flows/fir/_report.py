"""The FIR flow's report: ``report.md`` with PNG plots, next to the RTL it describes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...reports import figure, markdown_table, plot_convergence, save


def _db(x):
    return 20 * np.log10(np.maximum(np.abs(x), 1e-12))


def _plot_response(path, design, h, spec):
    from ...sim import bands
    from ...sim.fir._metrics import frequency_response

    w, H = frequency_response(h, 4096)
    _, Hq = frequency_response(np.array(spec.values), 4096)
    fig, (ax, axp) = figure(2, 1, figsize=(7.0, 6.0), gridspec_kw={"height_ratios": [2, 1]})
    for a in (ax, axp):
        a.plot(w, _db(H), label="float design", lw=1)
        a.plot(w, _db(Hq), label="quantized (bit-true)", lw=1)
    for band in bands(design):
        lo, hi = band.f_lo, band.f_hi
        if band.kind == "stop":
            ax.plot([lo, hi], [-design.stopband_atten_db] * 2, "r-", lw=2)
        else:
            g = 20 * np.log10(band.gain)
            for a in (ax, axp):
                a.plot([lo, hi], [g + design.passband_ripple_db] * 2, "r-", lw=2)
                a.plot([lo, hi], [g - design.passband_ripple_db] * 2, "r-", lw=2,
                       label="spec mask" if a is axp else None)
    ax.set_ylim(-design.stopband_atten_db - 40, 5)
    ax.set_ylabel("|H| (dB)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if bands(design):
        pb = [b for b in bands(design) if b.kind == "pass"]
        g = [20 * np.log10(b.gain) for b in pb]
        axp.set_xlim(min(b.f_lo for b in pb), max(b.f_hi for b in pb))
        axp.set_ylim(min(g) - 2 * design.passband_ripple_db,
                     max(g) + 2 * design.passband_ripple_db)
    axp.set_xlabel("frequency (x Nyquist)")
    axp.set_ylabel("passband (dB)")
    axp.grid(alpha=0.3)
    axp.legend(fontsize=8)
    save(fig, path)


def _plot_allocation(path, spec, h):
    from ...sim import coef_significant_bits

    k = np.arange(spec.taps)
    fig, ax = figure(figsize=(7.0, 3.6))
    ax.bar(k, spec.coef_widths, color="tab:blue", label="allotted width (bits)")
    ax.bar(k, [coef_significant_bits(c) for c in spec.coefficients], color="tab:orange",
           width=0.4, label="significant bits used")
    ax2 = ax.twinx()
    ax2.plot(k, _db(h), "k.", ms=3, label="|h| (dB)")
    ax2.set_ylabel("|h| (dB)")
    ax.set_xlabel("tap")
    ax.set_ylabel("bits")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, path)


def _plot_pareto(path, runs, uniform, best_uniform, est_luts, objective):
    fig, ax = figure(figsize=(6.4, 4.0))
    pts = [(int(r.cost[0]), float(r.error)) for _, _, r in runs if r.feasible]
    if pts:
        c, e = np.array(pts).T
        ax.plot(c, e, "o", ms=4, alpha=0.5, label="searched allocations")
        order = np.argsort(c)
        front_c, front_e, best_e = [], [], np.inf
        for i in order:
            if e[i] < best_e:
                best_e = e[i]
                front_c.append(c[i])
                front_e.append(e[i])
        ax.plot(front_c, front_e, "-", color="tab:blue", label="Pareto front (mixed)")
    for scaling, color in (("own_exponent", "tab:orange"), ("common_lsb", "tab:red")):
        rows = [u for u in uniform if u["scaling"] == scaling]
        ax.plot([u["luts"] for u in rows], [u["error"] for u in rows], "s-", ms=3,
                color=color, label=f"uniform widths ({scaling.replace('_', ' ')})")
    if objective == "spec":
        ax.axhline(1.0, color="r", ls="--", lw=1, label="spec limit")
    ax.axvline(est_luts, color="tab:green", ls=":", label=f"chosen ({est_luts} LUTs)")
    ax.set_xlabel("estimated LUTs")
    ax.set_ylabel({"spec": "spec error (<= 1 meets)", "max": "max |H_q - H|",
                   "rms": "RMS |H_q - H|"}[objective])
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, path)


def interface_section(i: dict | None) -> list[str]:
    """The report's "Interface" section: module, ports, latency, handshake, reset."""
    if not i:
        return []
    r = i["reset"]
    lines = ["## Interface", "",
             f"Module `{i['module']}` ({i['protocol']} protocol), bitsmith "
             f"{i['bitsmith_version']}, config hash `{i['config_hash']}`; instantiate it from "
             f"`rtl/{i['module']}_inst.v`.", ""]
    lines.append(markdown_table(["port", "direction", "width", "signed", "meaning"], [
        [f"`{p['name']}`", p["direction"], p["width"], "yes" if p["signed"] else "no",
         p["description"]] for p in i["ports"]]))
    lines.append(markdown_table(["quantity", "value"], [
        ["input / output format", f"{i['input_format']} / {i['output_format']}"],
        ["coefficients", f"{i['coefficients']['taps']} taps, {i['coefficients']['format']}"],
        ["rounding / overflow", f"{i['rounding']} / {i['overflow']}"],
        ["latency", f"{i['latency_clocks']} clocks (accepted input to output valid)"],
        ["throughput", i["throughput"]],
        ["handshake", i["handshake"]],
        ["reset", f"`{r['signal']}`, {r['kind']}, {r['polarity']}; policy {r['policy']}: "
                  f"clears {r['clears']}"],
    ]))
    return lines


def write_report(out: Path, cfg, *, design, h, spec, problem, spec_problem, best_x, uniform,
                 best_uniform, compare, runs, summary) -> None:
    """Write ``report.md`` and its plots into ``out``."""
    from ...search import plot_stability_region

    a = cfg["allocation"]
    _plot_response(out / "response.png", design, h, spec)
    _plot_allocation(out / "allocation.png", spec, h)
    plot_convergence(compare, out / "convergence.png",
                     ylabel="best feasible " + ("spec error" if a["objective"] == "spec"
                                                else f"{a['objective']} response error"))
    _plot_pareto(out / "pareto.png", runs, uniform, best_uniform, summary["estimated_luts"],
                 a["objective"])
    fig, ax = figure(figsize=(5.0, 4.0))
    plot_stability_region(ax=ax, w=0.729, c=1.494 * 2)
    save(fig, out / "pso_stability.png")

    s = summary
    r = s["response"]
    from ...sim import bands
    from ._flow import PHASE_TYPES, _response_text

    kind = design.response.value if design.response is not None else "user-coefficient"
    lines = [f"# FIR report: {spec.taps}-tap {kind}", ""]
    mask = [f"{b.kind}band [{b.f_lo:g}, {b.f_hi:g}]"
            + (f" gain {b.gain:g}" if b.kind == "pass" and b.gain != 1 else "")
            for b in bands(design)]
    req = []
    if mask:
        req.append(f"{', '.join(mask)} (x Nyquist), stopband >= {design.stopband_atten_db:g} "
                   f"dB, passband ripple <= {design.passband_ripple_db:g} dB")
    if design.max_error_db is not None:
        req.append(f"max |H_q - H| <= {design.max_error_db:g} dB of the peak gain")
    ptype = s.get("linear_phase_type")
    phase = (f"linear phase type {ptype} ({PHASE_TYPES[ptype]})" if ptype
             else "non-linear phase")
    lines.append(f"Requirements: {'; '.join(req)}; {s['design']} design, {phase}, "
                 f"{s['symmetry']} symmetry -> {s['variables']} allocation variables"
                 + (f" ({s['zero_taps']} exact-zero taps pruned, not searched)"
                    if s.get("zero_taps") else "") + ".")
    lines.append("")
    lines.append(f"**Verdict: {'meets' if s['meets_spec'] else 'MISSES'} the spec** "
                 f"({_response_text(r)}); RTL vs bit-true model: "
                 + ", ".join(f"{k} {v['samples_checked']} samples / {v['mismatches']} "
                             f"mismatches" for k, v in s["verification"].items()) + ".")
    lines += ["", "![response](response.png)", "", "## Arithmetic", ""]
    lines.append(markdown_table(["quantity", "value"], [
        ["input format", str(spec.input_format)],
        ["coefficient LSB", f"2^-{spec.coef_frac}"],
        ["accumulator (L1 bound, full precision)", f"{spec.acc_format}, {spec.acc_width} bits"],
        ["output format", f"{spec.output_format}, {spec.rounding.value}, "
                          f"{spec.overflow.value}"
                          + (" (int_bits auto: no input can overflow)"
                             if s["output"]["int_bits_auto"] else "")],
        ["L1 bound (x output full scale)",
         f"{s['output']['l1_bound_over_full_scale']:.4f}: needs int_bits "
         f"{s['output']['int_bits_needed']}"],
        ["output overflows, random full-scale input",
         f"{s['output']['random']['overflows']} of {s['output']['random']['samples']} "
         f"({100 * s['output']['random']['rate']:.4f} %; predicted "
         f"{100 * s['output']['predicted_overflow_rate']:.4f} %)"],
        ["output overflows, worst-case sign sequences",
         f"{s['output']['worst_case']['overflows']} of {s['output']['worst_case']['samples']}"],
        ["form", f"{spec.form.value}, fold {spec.fold_symmetric}, "
                 f"{spec.multiplier.value} multipliers, pipeline {spec.pipeline}"],
    ]))
    lines += interface_section(s.get("interface"))
    lines += ["## Allocation", "", "![allocation](allocation.png)", ""]
    if best_uniform:
        mu = s["mixed_vs_uniform"]
        if s["shipped"] == "uniform":
            verdict = (f"**Shipped the uniform design**: {s['shipped_reason']}.")
        else:
            verdict = (f"Mixed precision: {mu['mixed_luts_estimate']} LUTs, "
                       f"**{100 * s['lut_saving_vs_uniform']:.1f} % fewer**"
                       + (f" (yosys: {mu['mixed_luts_yosys']} vs {mu['uniform_luts_yosys']})"
                          if "mixed_luts_yosys" in mu else "") + ".")
        lines.append(f"Cheapest uniform width meeting the spec: {best_uniform['bits']}-bit "
                     f"coefficients ({best_uniform['scaling'].replace('_', ' ')}), "
                     f"{mu.get('uniform_luts_estimate', best_uniform['luts'])} LUTs "
                     f"(estimate). {verdict} Uniform widths, both scalings (own exponent: "
                     "every coefficient has the width in significant bits; common LSB: "
                     "classic fixed-point words on one LSB):")
        lines.append("")
        lines.append(markdown_table(
            ["bits", "scaling", "LUTs (estimate)", "spec error (<= 1 meets)", "meets"],
            [[u["bits"], u["scaling"], u["luts"], f"{u['spec_error']:.3f}", u["meets"]]
             for u in uniform if u["spec_error"] < 20]))
    rows = [[m, f"{v['error']:.4g}", v["luts"], v["feasible"], v["n_evals"], v["n_infeasible"]]
            for m, v in s["methods"].items()]
    lines.append(f"Methods at the final budget of {s['budget_luts']} LUTs:")
    lines.append("")
    lines.append(markdown_table(["method", "error", "LUTs", "feasible", "evaluations",
                                 "infeasible evaluations"], rows))
    lines += ["![convergence](convergence.png)", "", "![pareto](pareto.png)", "",
              "GC-PSO/PPSO coefficients against the convergence regions of PSO:", "",
              "![stability](pso_stability.png)", ""]
    lines += ["## Resources: estimate vs synthesis", ""]
    est, syn = s["estimate"], s["synthesis"]
    if syn:
        rows = [[k, est[k], syn[k], f"{100 * (est[k] - syn[k]) / max(syn[k], 1):+.1f} %"]
                for k in ("luts", "ffs", "dsps")]
        lines.append(markdown_table(["resource", "estimate", f"yosys ({syn['tool']})",
                                     "error"], rows))
        lines.append(f"Latches: {syn['latches']}.")
    else:
        lines.append("Synthesis disabled; estimate: " + ", ".join(f"{k} {v}"
                                                                  for k, v in est.items()))
    lines.append("")
    lines.append(f"Dynamic energy (Horowitz 45 nm scaling): {est['energy_pj_per_sample']:.1f} "
                 "pJ per output sample.")
    n = s["noise"]
    lines += ["", "## Noise", ""]
    lines.append(markdown_table(["quantity", "value"], [
        ["predicted output error power", f"{n['predicted_power']:.4e}"],
        ["of which output overflow (saturation or wrap)",
         f"{n['predicted_overflow_power']:.4e}"],
        ["measured (bit-true, random full-scale input)", f"{n['measured_power']:.4e}"],
        ["prediction error", f"{n['prediction_error_db']:+.2f} dB"],
        ["output SQNR", f"{n['sqnr_db']:.2f} dB"],
    ]))
    lines.append("The prediction adds coefficient error, the output rounding point and the "
                 "output overflow (its density for this input from the characteristic "
                 "function of the taps); it holds for white full-scale input.")
    for w in s.get("warnings", []):
        lines.append(f"\n**Warning:** {w}")
    if s.get("lint"):
        lines.append(f"Verilator lint (-Wall): {s['lint']['warnings']} warnings.")
    top = s["interface"]["module"] if s.get("interface") else "fir"
    lines += ["", f"Files: `rtl/{top}.v` (Verilog), `rtl/{top}_inst.v` (instantiation "
              f"template), `rtl/{top}.coe` (Xilinx coefficients), `rtl/spec.json`, "
              "`allocation.json`, `summary.json`."]
    (out / "report.md").write_text("\n".join(lines) + "\n")
