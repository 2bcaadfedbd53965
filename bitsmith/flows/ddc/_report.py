"""The DDC report: Markdown (stage widths, SNR budget, RTL proof, HIL, costs) and plots."""

from __future__ import annotations

import math

import numpy as np

from ...reports import figure, markdown_table, save

__all__ = ["write_report"]


def _db(v: float) -> str:
    return f"{10 * math.log10(v):.2f}" if v > 0 else ("-inf" if v == 0 else f"({v:.1e})")


def _spectrum(ax, z, rate, label):
    z = np.asarray(z, dtype=complex)
    n = 1 << int(math.floor(math.log2(max(len(z), 16))))
    z = z[-n:]
    w = np.blackman(n)
    S = np.fft.fftshift(np.abs(np.fft.fft(z * w)) ** 2) / np.sum(w) ** 2
    f = np.fft.fftshift(np.fft.fftfreq(n, 1 / rate))
    ax.plot(f / 1e3, 10 * np.log10(S + 1e-30), lw=0.7, label=label)


def write_report(out_dir, cfg, design, spec, model, s, base, runs) -> None:
    """report.md, spectrum.png (per stage) and snr_budget.png."""
    # spectra per stage (complex, fraction of full scale)
    fig, axes = figure(4, 1, figsize=(7.0, 9.0))
    stages = [("mixer out", model["mix_i"], model["mix_q"], spec.mixer_bits, design.fs),
              ("CIC out", model["cic_i"], model["cic_q"], spec.cic.output_bits,
               design.fs / design.cic_decimation)]
    if spec.halfband is not None:
        stages.append(("half-band out", model["hb_i"], model["hb_q"],
                       spec.halfband.output_format.word_bits,
                       design.fs / design.cic_decimation / 2))
    stages.append(("output", model["out_i"], model["out_q"], spec.output_bits,
                   design.output_rate))
    for ax, (name, i, q, bits, rate) in zip(axes, stages[-4:], strict=False):
        z = (np.asarray(i) + 1j * np.asarray(q)) * 2.0 ** -(bits - 1)
        _spectrum(ax, z, rate, name)
        ax.set_ylabel("dBFS")
        ax.set_title(f"{name} ({rate / 1e3:g} kHz)", fontsize=9)
        ax.set_ylim(-200, 0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("frequency (kHz)")
    save(fig, out_dir / "spectrum.png")

    rows = s["budget"]
    fig, ax = figure(figsize=(8.0, 4.0))
    k = np.arange(len(rows))
    sig = s["snr"]["signal_power"]

    def rel(v):
        return 10 * math.log10(v / sig) if v > 0 else np.nan

    ax.bar(k - 0.2, [rel(r["predicted_mse"]) for r in rows], 0.4, label="predicted")
    ax.bar(k + 0.2, [rel(r["measured_mse"]) for r in rows], 0.4, label="measured")
    ax.set_xticks(k, [r["point"] for r in rows], rotation=60, fontsize=7)
    ax.set_ylabel("noise / signal (dB)")
    ax.axhline(-cfg["allocation"]["snr_target_db"], ls="--", color="k", lw=1,
               label="SNR target")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    save(fig, out_dir / "snr_budget.png")

    w = s["widths"]
    L = ["# Digital down-converter", ""]
    L += [f"- {line}" for line in s["headline"]]
    L += ["", "## Design", "",
          f"ADC {design.adc_bits} bits at {design.fs / 1e6:g} MHz, carrier "
          f"{design.f_if / 1e6:g} MHz (NCO word {spec.nco.fcw} of 2^{spec.nco.phase_bits}), "
          f"decimation {design.decimation} = CIC {design.cic_decimation} (N="
          f"{design.cic_stages}, M={design.cic_diff_delay})"
          f"{' x half-band 2' if design.halfband_taps else ''}"
          f"{' x CFIR ' + str(design.cfir_decimate) if design.cfir_taps else ''}, output "
          f"{design.output_rate / 1e3:g} kHz, passband {design.passband / 1e3:g} kHz, stopband "
          f"{design.stopband / 1e3:g} kHz. Output: I and Q, {spec.output_bits} bits each, "
          f"rounded half up and saturated.", ""]
    L += ["## Widths (joint allocation)", "",
          markdown_table(["point", "bits"], [
              ["NCO table address (phase bits)", f"{w['addr_bits']} ({w['addr_bits'] + 2})"],
              ["NCO amplitude", w["amp_bits"]], ["mixer output", w["mixer_bits"]],
              ["CIC registers (Hogenauer)", " / ".join(map(str, s["cic_hogenauer_widths"]))],
              ["CIC registers (allocated)", " / ".join(map(str, s["cic_register_widths"]))],
              ["CIC output", w["cic_out_bits"]],
              *([["half-band coefficients / output", f"{w['hb_coef_bits']} / "
                  f"{w['hb_out_bits']}"]] if design.halfband_taps else []),
              *([["CFIR coefficients / output", f"{w['cfir_coef_bits']} / {w['out_bits']}"]]
                if design.cfir_taps else [])]), ""]
    bl = s["baseline"]
    L += [f"Baseline: Hogenauer CIC, every other width {bl['bits']} bits, "
          f"{bl['addr_bits']}-bit table address: {bl['luts']} LUTs (estimate), predicted SNR "
          f"{bl['snr_db']:.2f} dB. Joint: {s['estimated']['luts']} LUTs, predicted SNR "
          f"{s['predicted_snr_db']:.2f} dB.", ""]
    L += ["## SNR budget (per channel, test signal)", "",
          "Predicted: white-noise model per point (ADC, mixer, FIR outputs), each CIC "
          "register's truncation noise through the rest of the CIC and the FIRs (with the "
          "truncation offsets' growth), the exact "
          "LO-error spectrum mixed with the input's components (NCO) and the response "
          "difference (coefficients). Measured: bit-true model against a float chain, "
          "points quantized one more at a time in chain order (each figure is a difference "
          "of two MSEs: tiny ones can come out negative, shown in parentheses; -inf: the "
          "point drops no bits).", "",
          markdown_table(["point", "predicted noise/signal (dB)", "measured (dB)"],
                         [[r["label"], _db(r["predicted_mse"] / sig), _db(r["measured_mse"] / sig)]
                          for r in rows]), "",
          f"Total: predicted SNR {s['snr']['predicted_db']:.2f} dB, measured "
          f"{s['snr']['measured_db']:.2f} dB (the wide chain's floor: "
          f"{_db(sig / s['snr']['wide_chain_mse'])} dB).", ""]
    L += ["## RTL == bit-true model", ""]
    for sim, v in s["verification"].items():
        L.append(f"- {sim}: {v['input_samples']} ADC samples (full-scale random signs and "
                 f"constants first), {v['samples_checked']} I/Q outputs, "
                 f"**{v['mismatches']} mismatches**")
    if s["lint"]:
        L.append(f"- `verilator --lint-only -Wall`: {s['lint']['warnings']} warnings")
    h = s["hil"]
    if h:
        r, m = h["rtl"], h["model"]
        L += ["", "## Hardware in the loop", "",
              f"QPSK at {cfg['channel']['symbol_rate_hz'] / 1e3:g} ksym/s (RRC "
              f"{cfg['channel']['rolloff']}), {cfg['channel']['offset_hz'] / 1e3:g} kHz off "
              f"the carrier at {cfg['channel']['signal_dbfs']} dBFS, a tone "
              f"{cfg['channel']['interferer_offset_hz'] / 1e6:g} MHz off at "
              f"{cfg['channel']['interferer_dbfs']} dBFS, noise {cfg['channel']['snr_db']} dB "
              f"below the burst; {h['adc_samples']} ADC samples through the simulated RTL on "
              f"{h['simulator']}.", "",
              markdown_table(["", "EVM (%)", "EVM (dB)", "BER", "bits"],
                             [["RTL", f"{r['evm_percent']:.4f}", f"{r['evm_db']:.2f}",
                               f"{r['ber']:.2e}", r["bits"]],
                              ["bit-true model", f"{m['evm_percent']:.4f}", f"{m['evm_db']:.2f}",
                               f"{m['ber']:.2e}", m["bits"]]]), "",
              f"RTL outputs equal the model's sample for sample: {h['rtl_equals_model']} "
              f"({h['mismatches']} mismatches over {h['output_samples']} outputs)."]
    L += ["", "## Cost per stage (xc7)", ""]
    syn = s["synthesis"]
    hdr = ["stage", "est. LUTs", "est. FFs", "est. DSPs"]
    if syn:
        hdr += ["yosys LUTs", "yosys FFs", "yosys DSPs", "LUT error"]
    trs = []
    for name, e in s["estimated"]["stages"].items():
        row = [name, e["luts"], e["ffs"], e["dsps"]]
        if syn and name in syn["stages"]:
            y = syn["stages"][name]
            err = (e["luts"] - y["synth_luts"]) / y["synth_luts"] if y["synth_luts"] else 0
            row += [y["synth_luts"], y["synth_ffs"], y["synth_dsps"], f"{100 * err:+.1f} %"]
        trs.append(row)
    L.append(markdown_table(hdr, trs))
    if syn:
        ch = syn["chain"]
        L += ["", f"Whole chain (yosys {syn['tool']}): {ch['luts']} LUTs, {ch['ffs']} FFs, "
              f"{ch['dsps']} DSP48E1, {ch['latches']} latches. I and Q stages are synthesized "
              f"once and counted twice."]
    L += ["", "Files: `rtl/ddc.v`, `rtl/spec.json`, `model_outputs.npz`, `spectrum.png`, "
          "`snr_budget.png`, `summary.json`.", ""]
    (out_dir / "report.md").write_text("\n".join(L))
