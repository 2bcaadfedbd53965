"""The DDC flow (``kind: ddc``): joint widths -> bit-true chain -> verified Verilog -> report.

1. The design (rates, IF, decimation, bands) and the test signal from the config; the
   problem (:class:`DdcProblem`): every quantization point a variable, predicted output
   SNR the error, estimated LUTs the cost.
2. Baseline: Hogenauer-pruned CIC with one uniform width for every other point (and the
   best table address), the cheapest meeting the SNR target (or the budget).
3. Joint allocation: GC-PSO; objective ``snr`` bisects the LUT budget for the least LUTs
   whose predicted SNR meets the target, ``luts`` maximizes SNR within ``budget_luts``.
4. The chain's Verilog, ``verilator --lint-only -Wall``.
5. Stage-by-stage error budget on the test signal: predicted vs measured (bit-true model).
6. RTL == model: a long stimulus (full-scale sign runs, constants, a burst) on Verilator,
   a shorter one on Icarus (with input gaps), through the batch runner.
7. Hardware in the loop: QPSK burst + noise + stopband interferer -> ADC -> the simulated
   RTL chain -> demodulated EVM and BER, equal to the model's sample for sample.
8. yosys ``synth_xilinx`` of each stage and of the whole chain vs the estimates.
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .._base import Flow, RunContext, register_flow
from ._config import DdcConfig
from ._problem import DdcProblem, Signal

__all__ = ["FLOW", "allocate", "baseline", "design_of", "run", "signal_of"]


def design_of(cfg: dict):
    """The :class:`~bitsmith.sim.ddc.DdcDesign` of a validated config."""
    from ...sim.ddc import DdcDesign

    d = cfg["decimation"]
    after = (2 if d["halfband_taps"] else 1) * d["cfir_decimate"]
    return DdcDesign(fs=cfg["adc"]["sample_rate_hz"], f_if=cfg["carrier_hz"],
                     adc_bits=cfg["adc"]["bits"], cic_stages=d["cic_stages"],
                     cic_decimation=d["total"] // after, cic_diff_delay=d["cic_diff_delay"],
                     halfband_taps=d["halfband_taps"], cfir_taps=d["cfir_taps"],
                     cfir_decimate=d["cfir_decimate"] if d["cfir_taps"] else 1,
                     passband=cfg["band"]["passband_hz"], stopband=cfg["band"]["stopband_hz"],
                     phase_bits=cfg["nco"]["phase_bits"])


def signal_of(cfg: dict) -> Signal:
    """The test signal's components at the ADC (what the error is predicted for)."""
    from ...sim.ddc._budget import Component

    c = cfg["channel"]
    ps = 0.5 * 10 ** (c["signal_dbfs"] / 10)
    pi = 0.5 * 10 ** (c["interferer_dbfs"] / 10)
    pn = ps / 10 ** (c["snr_db"] / 10)
    half = c["symbol_rate_hz"] * (1 + c["rolloff"]) / 2
    return Signal((Component(c["offset_hz"], ps, half), Component(c["interferer_offset_hz"], pi)),
                  ps + pi + pn)


def _burst(cfg: dict, n: int, seed: int):
    from ...sim.ddc._channel import qpsk_burst

    c = cfg["channel"]
    f = cfg["carrier_hz"]
    return qpsk_burst(n, cfg["adc"]["sample_rate_hz"], f + c["offset_hz"], c["symbol_rate_hz"],
                      c["rolloff"], c["signal_dbfs"], f + c["interferer_offset_hz"],
                      c["interferer_dbfs"], c["snr_db"], cfg["adc"]["bits"],
                      np.random.default_rng(seed))


def baseline(problem: DdcProblem, snr_target: float | None, budget: int | None) -> dict:
    """Hogenauer-pruned CIC, one width W for every other point, the best table address.

    The cheapest (W, address) meeting ``snr_target``, or the best SNR within ``budget``.
    """
    rows = []
    idx = {n: i for i, n in enumerate(problem.names)}
    data = problem.choices[idx["amp_bits"]]
    coef = problem.choices[idx["hb_coef_bits"]] if "hb_coef_bits" in idx \
        else problem.choices[idx["cfir_coef_bits"]] if "cfir_coef_bits" in idx else data
    for W in data:
        for a in problem.choices[idx["addr_bits"]]:
            x = np.zeros(len(problem.names), dtype=np.int64)
            for n, i in idx.items():
                if n == "addr_bits":
                    x[i] = a
                elif n.startswith("cic_extra"):
                    x[i] = 0
                elif n.endswith("coef_bits"):
                    x[i] = min(max(W, coef[0]), coef[-1])
                else:
                    x[i] = W
            err, luts = problem.evaluate_one(x)
            rows.append({"bits": int(W), "addr_bits": int(a), "x": x.tolist(),
                         "snr_db": float(-10 * math.log10(err)), "luts": int(luts)})
    if snr_target is not None:
        ok = [r for r in rows if r["snr_db"] >= snr_target]
        best = min(ok, key=lambda r: (r["luts"], -r["snr_db"])) if ok else None
    else:
        ok = [r for r in rows if r["luts"] <= budget]
        best = max(ok, key=lambda r: (r["snr_db"], -r["luts"])) if ok else None
    return {"best": best, "rows": rows}


def _solve(problem: DdcProblem, budget: int, a: dict, seed: int, x0=None, progress=None):
    from ... import search

    opts = {"n_particles": a["n_particles"], "n_iter": a["n_iter"]}
    return search.minimize(problem.problem(budget), method=a["method"], seed=seed,
                           progress=progress, **opts)


def allocate(problem: DdcProblem, a: dict, seed: int, base: dict | None, log, progress):
    """Joint allocation; returns (x, runs) with runs = [(budget, SearchResult)]."""
    runs = []
    x_min = np.array([c[0] for c in problem.choices])
    lo = int(problem.evaluate_one(x_min)[1])
    if a["objective"] == "luts":
        res = _solve(problem, a["budget_luts"], a, seed, progress=progress("gcpso"))
        runs.append((a["budget_luts"], res))
        return np.asarray(res.x), runs
    target_err = 10 ** (-a["snr_target_db"] / 10)
    if base is None:
        raise ValueError("no baseline meets the SNR target: widen allocation.ranges")
    best_x = np.asarray(base["x"])
    hi = base["luts"]
    log(f"ddc: bisection on the LUT budget between {lo} and {hi} (baseline)")
    for step in range(a["bisection_steps"]):
        mid = (lo + hi) // 2
        if mid <= lo:
            break
        res = _solve(problem, mid, a, seed, progress=progress(f"gcpso @{mid}"))
        runs.append((mid, res))
        ok = res.feasible and res.error <= target_err
        log(f"  step {step + 1}: budget {mid} LUTs -> SNR "
            f"{-10 * math.log10(res.error):.2f} dB ({'meets' if ok else 'fails'}), "
            f"{int(res.cost[0])} LUTs")
        if ok:
            hi, best_x = int(res.cost[0]), np.asarray(res.x)
        else:
            lo = mid
    return best_x, runs


def _lint(path: Path, top: str) -> dict:
    from ...sim import hdl

    root = hdl.ensure_verilator()
    r = subprocess.run([str(root / "bin" / "verilator"), "--lint-only", "-Wall",
                        "--top-module", top, str(path)], capture_output=True, text=True,
                       check=False)
    lines = r.stderr.splitlines()
    warnings = sum(1 for line in lines if line.startswith(("%Warning", "%Error")))
    return {"warnings": warnings, "returncode": r.returncode, "log": r.stderr.strip()[-2000:]}


def _verify(spec, verilog: str, x, simulator: str, gaps=None) -> dict:
    from ...sim.ddc import ddc_model, unpack_pair
    from ...sim.hdl import StreamPorts, run_batch

    B = spec.output_bits
    t0 = time.perf_counter()
    r = run_batch(verilog, StreamPorts("ddc", spec.adc_bits, 2 * B, out_signed=False), x,
                  simulator, gaps=gaps, n_expected=len(x) // spec.decimation, timeout=10_000)
    i, q = unpack_pair(r.y, B)
    ref = ddc_model(spec, x)
    n = min(len(i), len(ref["out_i"]))
    mism = int(np.count_nonzero((i[:n] != ref["out_i"][:n]) | (q[:n] != ref["out_q"][:n])))
    mism += abs(len(i) - len(ref["out_i"]))
    return {"input_samples": int(len(x)), "samples_checked": int(n), "mismatches": mism,
            "timed_out": bool(r.timed_out), "seconds": round(time.perf_counter() - t0, 1),
            "i": i, "q": q}


def _synthesize(spec, verilog: str, est, out: dict, log) -> None:
    from ...hwmodels.ddc import synthesize_stages
    from ...hwmodels.synth import synthesize

    t0 = time.perf_counter()
    stages = synthesize_stages(spec)
    per = {}
    for name, r in stages.items():
        k = 1 if name == "nco_mixer" else 2  # I and Q paths
        e = est.stages[name]
        per[name] = {"synth_luts": k * r.luts, "synth_ffs": k * r.ffs, "synth_dsps": k * r.dsps,
                     "synth_latches": k * r.latches, "est_luts": e.luts, "est_ffs": e.ffs,
                     "est_dsps": e.dsps}
    whole = synthesize(verilog, "ddc")
    out["synthesis"] = {"stages": per, "chain": {"luts": whole.luts, "ffs": whole.ffs,
                                                 "dsps": whole.dsps, "latches": whole.latches,
                                                 "carries": whole.carries},
                        "tool": whole.tool, "seconds": round(time.perf_counter() - t0, 1)}
    log(f"ddc: yosys: chain {whole.luts} LUTs, {whole.ffs} FFs, {whole.dsps} DSPs, "
        f"{whole.latches} latches (estimate {est.luts} LUTs)")


def _stimulus(cfg: dict, n: int, seed: int) -> np.ndarray:
    """Worst cases first (full-scale random signs, +/- full-scale constants), then a burst."""
    bits = cfg["adc"]["bits"]
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    rng = np.random.default_rng(seed)
    k = min(n, 30_000)
    head = np.concatenate([np.where(rng.random(k // 3) < 0.5, hi, lo), np.full(k // 3, hi),
                           np.full(k - 2 * (k // 3), lo)])
    if n <= k:
        return head[:n].astype(np.int64)
    return np.concatenate([head, _burst(cfg, n - k, seed).adc]).astype(np.int64)


def run(cfg: dict, ctx: RunContext) -> dict:
    """Run the DDC flow; see the module docstring."""
    from ...hwmodels.ddc import ddc_cost
    from ...rtl.ddc import DdcChain, component_verilog
    from ...sim.ddc import ddc_model, ddc_spec
    from ...sim.ddc._budget import (
        POINT_LABELS,
        budget_points,
        measure_budget,
        output_complex,
        predict_budget,
    )
    from ...sim.ddc._channel import demodulate_qpsk
    from ...sim.hdl import random_gaps, require_simulator
    from ._report import write_report

    t_start = time.perf_counter()
    for sim in cfg["verification"]["simulators"]:
        require_simulator(sim)
    design = design_of(cfg)
    signal = signal_of(cfg)
    a = cfg["allocation"]
    problem = DdcProblem(design, signal, a["ranges"])
    ctx.log(f"ddc: {design.fs / 1e6:g} MHz ADC, IF {design.f_if / 1e6:g} MHz, decimation "
            f"{design.decimation} (CIC {design.cic_decimation}), output "
            f"{design.output_rate / 1e3:g} kHz; {len(problem.names)} variables")

    target = a["snr_target_db"] if a["objective"] == "snr" else None
    base = baseline(problem, target, a["budget_luts"])
    if base["best"] is None:
        from ...config import ConfigError

        raise ConfigError("no uniform allocation meets the target within the allowed widths",
                          file=ctx.config_path, key_path="allocation.ranges.data_bits")
    b = base["best"]
    ctx.log(f"ddc: baseline (Hogenauer CIC, uniform {b['bits']}-bit, {b['addr_bits']}-bit "
            f"table address): {b['luts']} LUTs, predicted SNR {b['snr_db']:.2f} dB")
    t_alloc = time.perf_counter()
    x, runs = allocate(problem, a, ctx.seed, b, ctx.log, ctx.progress)
    alloc_s = time.perf_counter() - t_alloc
    widths = problem.widths(x)
    spec = ddc_spec(design, widths)
    est = ddc_cost(spec)
    pred_snr = problem.snr_db(x)
    ctx.log(f"ddc: joint allocation: {est.luts} LUTs (estimate), predicted SNR "
            f"{pred_snr:.2f} dB; baseline {b['luts']} LUTs")

    # Verilog and lint
    rtl_dir = ctx.out_dir / "rtl"
    rtl_dir.mkdir()
    verilog = component_verilog(DdcChain(spec), "ddc")
    (rtl_dir / "ddc.v").write_text(verilog)
    spec_doc = _spec_doc(spec, widths)
    (rtl_dir / "spec.json").write_text(json.dumps(spec_doc, indent=1) + "\n")
    lint = _lint(rtl_dir / "ddc.v", "ddc") if cfg["verification"]["lint"] else None

    # synthesis in the background, next to the simulations
    synth_out: dict = {}
    synth_err: list = []

    def synth_job():
        try:
            _synthesize(spec, verilog, est, synth_out, ctx.log)
        except Exception as exc:  # reported after the join
            synth_err.append(exc)

    th = None
    if cfg["synthesis"]["enabled"]:
        th = threading.Thread(target=synth_job, daemon=True)
        th.start()
    try:
        # HIL burst: model, error budget, RTL on Verilator (or the first simulator)
        c = cfg["channel"]
        burst = _burst(cfg, c["samples"], ctx.seed)

        def adc_of(bits):
            full = 1 << (bits - 1)
            return np.clip(np.round(burst.analog * full), -full, full - 1).astype(np.int64)

        model = ddc_model(spec, burst.adc)
        ctx.log("ddc: error budget (predicted vs measured, per quantization point)")
        meas = measure_budget(design, widths, burst.analog, adc_of)
        pred = predict_budget(design, widths, signal.components, signal.adc_power)
        budget_rows = []
        for p in budget_points(design):
            budget_rows.append({"point": p, "label": POINT_LABELS.get(p, p.replace("_", " ")),
                                "predicted_mse": pred["points"][p],
                                "measured_mse": meas["points"][p]})
        p_sig = meas["signal"]
        snr_meas = 10 * math.log10(p_sig / meas["total"])
        snr_pred_sig = 10 * math.log10(p_sig / pred["total"])
        z_model = output_complex(spec, model)
        kw = dict(f_offset=c["offset_hz"], rate=design.output_rate,
                  symbol_rate=c["symbol_rate_hz"], rolloff=c["rolloff"],
                  symbols=burst.symbols, bits=burst.bits)
        demod_model = demodulate_qpsk(z_model, **kw)

        sims = cfg["verification"]["simulators"]
        hil = None
        if sims:
            hsim = "verilator" if "verilator" in sims else sims[0]
            ctx.log(f"ddc: hardware in the loop on {hsim} ({len(burst.adc)} ADC samples)")
            v = _verify(spec, verilog, burst.adc, hsim)
            z_rtl = (v["i"] + 1j * v["q"]) * 2.0 ** -(spec.output_bits - 1)
            demod_rtl = demodulate_qpsk(z_rtl, **kw)
            hil = {"simulator": hsim, "adc_samples": int(len(burst.adc)),
                   "output_samples": int(len(v["i"])),
                   "rtl_equals_model": v["mismatches"] == 0 and v["samples_checked"] > 0,
                   "mismatches": v["mismatches"], "rtl": demod_rtl, "model": demod_model,
                   "seconds": v["seconds"]}
            ctx.log(f"  RTL: EVM {demod_rtl['evm_percent']:.3f} % ({demod_rtl['evm_db']:.2f} dB), "
                    f"BER {demod_rtl['ber']:.2e} over {demod_rtl['bits']} bits; model "
                    f"EVM {demod_model['evm_percent']:.3f} %; mismatches {v['mismatches']}")
        verification = {}
        for sim in sims:
            n = cfg["verification"][f"{sim}_samples"]
            if n == 0:
                continue
            xs = _stimulus(cfg, n, ctx.seed + 1)
            gaps = random_gaps(len(xs), np.random.default_rng(ctx.seed), p_idle=0.1) \
                if sim == "icarus" else None
            ctx.log(f"ddc: RTL == model on {sim} ({n} ADC samples"
                    f"{', random input gaps' if gaps is not None else ''})")
            v = _verify(spec, verilog, xs, sim, gaps)
            v.pop("i")
            v.pop("q")
            verification[sim] = v
            ctx.log(f"  {sim}: {v['samples_checked']} output samples (I and Q) checked, "
                    f"{v['mismatches']} mismatches, {v['seconds']} s")
    finally:
        if th is not None:
            th.join()
    if synth_err:
        raise synth_err[0]

    np.savez_compressed(ctx.out_dir / "model_outputs.npz",
                        **{k: v for k, v in model.items() if k not in ("cos", "msin")},
                        adc=burst.adc)
    summary = {
        "design": asdict(design),
        "decimation": design.decimation, "output_rate_hz": design.output_rate,
        "variables": list(problem.names),
        "widths": {**asdict(widths), "cic_extra": list(widths.cic_extra)},
        "cic_register_widths": list(spec.cic.widths),
        "cic_hogenauer_widths": _hogenauer_widths(spec),
        "estimated": {"luts": est.luts, "ffs": est.ffs, "dsps": est.dsps,
                      "stages": {k: asdict(v) for k, v in est.stages.items()}},
        "baseline": {k: b[k] for k in ("bits", "addr_bits", "luts", "snr_db")},
        "lut_saving_vs_baseline_estimate": 1 - est.luts / b["luts"],
        "predicted_snr_db": pred_snr,
        "snr": {"measured_db": snr_meas, "predicted_db": snr_pred_sig,
                "signal_power": p_sig, "measured_mse": meas["total"],
                "predicted_mse": pred["total"], "wide_chain_mse": meas["wide"]},
        "budget": budget_rows,
        "hil": hil,
        "verification": verification,
        "lint": lint,
        "synthesis": synth_out.get("synthesis"),
        "search": [{"budget": int(bud), "snr_db": float(-10 * math.log10(r.error))
                    if r.error > 0 else None, "luts": int(r.cost[0]),
                    "feasible": bool(r.feasible), "n_evals": int(r.n_evals)}
                   for bud, r in runs],
    }
    checks = {
        "rtl_matches_model": bool(verification) and all(
            v["mismatches"] == 0 and v["samples_checked"] > 0 and not v["timed_out"]
            for v in verification.values()),
        "hil_rtl_equals_model": hil is None or hil["rtl_equals_model"],
        "lint_clean": lint is None or (lint["warnings"] == 0 and lint["returncode"] == 0),
        "no_latches": (summary["synthesis"] or {}).get("chain", {}).get("latches", 0) == 0,
        "meets_snr_target": a["objective"] != "snr" or snr_meas >= a["snr_target_db"] - 0.5,
    }
    summary["checks"] = checks
    summary["ok"] = all(checks.values())
    timings = {"total_s": round(time.perf_counter() - t_start, 1),
               "allocation_s": round(alloc_s, 1)}
    for sim, v in verification.items():
        timings[f"verify_{sim}_s"] = v.pop("seconds")
    if hil:
        timings["hil_s"] = hil.pop("seconds")
    if summary["synthesis"]:
        timings["synthesis_s"] = summary["synthesis"].pop("seconds")
    (ctx.out_dir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    summary["headline"] = _headline(summary)
    write_report(ctx.out_dir, cfg, design, spec, model, summary, base, runs)
    return summary


def _hogenauer_widths(spec) -> list[int]:
    from ...sim.ddc import CicSpec

    c = spec.cic
    return list(CicSpec(c.n_stages, c.decimation, c.diff_delay, c.input_bits,
                        c.output_bits).widths)


def _spec_doc(spec, widths) -> dict:
    from ...sim.fir._spec import spec_to_json

    return {"adc_bits": spec.adc_bits, "nco": asdict(spec.nco), "mixer_bits": spec.mixer_bits,
            "cic": {**asdict(spec.cic), "widths": list(spec.cic.widths),
                    "b_max": spec.cic.b_max},
            "halfband": json.loads(spec_to_json(spec.halfband)) if spec.halfband else None,
            "cfir": json.loads(spec_to_json(spec.cfir)) if spec.cfir else None,
            "cfir_decimate": spec.cfir_decimate, "output_bits": spec.output_bits,
            "output_port": "o__payload = {I, Q}, each output_bits two's complement"}


def _headline(s: dict) -> list[str]:
    lines = [f"DDC /{s['decimation']} -> {s['output_rate_hz'] / 1e3:g} kHz: measured SNR "
             f"{s['snr']['measured_db']:.2f} dB (predicted {s['snr']['predicted_db']:.2f} dB)",
             f"LUTs (estimate): joint {s['estimated']['luts']} vs baseline "
             f"{s['baseline']['luts']} ({100 * s['lut_saving_vs_baseline_estimate']:.1f} % "
             f"fewer)"]
    if s["synthesis"]:
        ch = s["synthesis"]["chain"]
        lines.append(f"yosys: {ch['luts']} LUTs, {ch['ffs']} FFs, {ch['dsps']} DSPs, "
                     f"{ch['latches']} latches")
    for sim, v in s["verification"].items():
        lines.append(f"RTL vs bit-true model on {sim}: {v['input_samples']} ADC samples, "
                     f"{v['samples_checked']} outputs, {v['mismatches']} mismatches")
    if s["hil"]:
        h = s["hil"]
        lines.append(f"HIL ({h['simulator']}): EVM {h['rtl']['evm_percent']:.3f} %, BER "
                     f"{h['rtl']['ber']:.2e} ({h['rtl']['bits']} bits), RTL == model: "
                     f"{h['rtl_equals_model']}")
    return lines


FLOW = register_flow(Flow("ddc", DdcConfig, run,
                          "DDC: NCO, mixer, CIC, half-band, CFIR jointly sized -> verified "
                          "Verilog"))
