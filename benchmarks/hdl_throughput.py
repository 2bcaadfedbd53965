"""RTL simulation throughput: the cocotb bench against the batch runner, on each simulator.

For the default 63-tap lowpass (``configs/fir/lowpass.yaml``'s filter; coefficients from
``--spec``, e.g. a run's ``rtl/spec.json``, else uniform ``--bits``-bit coefficients) and a
255-tap one, measured in the same run:

* samples/s of the bulk 0-LSB comparison through cocotb (one Python call per clock) and
  through the batch runner (:func:`bitsmith.sim.hdl.run_batch`), on Verilator and Icarus,
  and their ratio; simulation time only (the build is timed apart);
* build time of the batch testbench, cold (empty cache) and cached;
* Icarus on the emitted Verilog against the same netlist after a yosys clean-up pass
  (``wreduce; opt_clean -purge``: the explicit sign extensions of the lint-clean Verilog
  become implicit ones again), still compared at 0 LSB.

Every figure is checked at 0 LSB against the bit-true model before it is printed.
Run: ``.venv/bin/python benchmarks/hdl_throughput.py [--spec out/rtl/spec.json]
[--no-255] [--no-cocotb]``. CPU time (not wall time) is printed next to wall time:
on a shared machine it is the steadier figure.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bitsmith.rtl import fir_verilog
from bitsmith.sim import FirDesign, QFormat, design_fir, fir_filter, fir_spec_from_design
from bitsmith.sim.fir._spec import spec_from_json
from bitsmith.sim.hdl import build_batch
from bitsmith.sim.hdl.fir_bench import fir_ports, model_spec, verify_fir


def default_spec(taps: int, bits: int):
    """The default config's structure (Q1.15 -> Q1.17, folded CSD, pipeline 1) with uniform
    ``bits``-bit coefficients: its remez lowpass 0.2/0.3 at 63 taps, a firwin lowpass
    0.1/0.12 at other lengths (remez does not converge at 255)."""
    if taps == 63:
        d = FirDesign("lowpass", (0.2, 0.3), taps, 0.1, 60, "remez")
    else:
        d = FirDesign("lowpass", (0.1, 0.12), taps, 0.5, 50, "firwin")
    return fir_spec_from_design(design_fir(d), (bits,) * taps, QFormat(1, 15),
                                QFormat(1, 17), fold_symmetric=True, pipeline=1)


def cleaned_netlist(verilog: str) -> str:
    """The netlist after ``yosys: proc; wreduce; opt_clean -purge`` (Debian's yosys)."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.v", Path(d) / "out.v"
        src.write_text(verilog)
        subprocess.run(["yosys", "-q", "-p", f"read_verilog {src}; proc; wreduce; "
                        f"opt_clean -purge; write_verilog -noattr {dst}"], check=True)
        return dst.read_text()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def batch(spec, verilog, sim, n, cache, rng_seed=0) -> dict:
    """Batch run of ``n`` random samples (valid every clock), checked at 0 LSB."""
    x = np.random.default_rng(rng_seed).integers(
        -(1 << (spec.input_format.word_bits - 1)), 1 << (spec.input_format.word_bits - 1), n)
    b = build_batch(verilog, fir_ports(spec), sim, cache_dir=cache)
    c0 = _cpu()
    r = b.run(x, tail=8)
    cpu = _cpu() - c0
    ok = np.array_equal(r.y, fir_filter(model_spec(spec), x))
    if not ok:
        raise SystemExit(f"{sim} batch: output differs from the bit-true model")
    return {"samples": n, "seconds": r.seconds, "cpu": cpu, "rate": n / r.seconds,
            "cpu_rate": n / max(cpu, 1e-9)}


def cocotb(spec, verilog, sim, n, build_dir) -> dict:
    """cocotb bulk bench; the build runs first (n=10) so the timed run is simulation only."""
    verify_fir(spec, sim, build_dir, 10, seed=0, gaps=False, verilog=verilog,
               backend="cocotb")
    t0 = time.perf_counter()
    r = verify_fir(spec, sim, build_dir, n, seed=0, gaps=False, verilog=verilog,
                   backend="cocotb")
    dt = time.perf_counter() - t0
    if not r.passed:
        raise SystemExit(f"{sim} cocotb: output differs from the bit-true model")
    # fixed cost (simulator start, Python imports) measured with 10 samples
    t1 = time.perf_counter()
    verify_fir(spec, sim, build_dir, 10, seed=0, gaps=False, verilog=verilog,
               backend="cocotb")
    fixed = time.perf_counter() - t1
    return {"samples": r.samples_checked, "seconds": dt, "fixed": fixed,
            "rate": r.samples_checked / dt,
            "marginal_rate": r.samples_checked / max(dt - fixed, 1e-9)}


def build_times(verilog, ports, sim, root: Path) -> tuple[float, float, float]:
    """(cold with an empty cache, cold design with the run-time library cached, cached)."""
    cache = root / f"cold-{sim}"
    cold = build_batch(verilog, ports, sim, cache_dir=cache).seconds
    for entry in cache.iterdir():  # keep Verilator's run-time library, drop the design
        if not entry.name.startswith("verilator-runtime-"):
            shutil.rmtree(entry)
    warm_lib = build_batch(verilog, ports, sim, cache_dir=cache).seconds
    cached = build_batch(verilog, ports, sim, cache_dir=cache)
    assert cached.cached
    return cold, warm_lib, cached.seconds


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, help="spec.json of the 63-tap design (a run's rtl/)")
    ap.add_argument("--bits", type=int, default=12, help="uniform coefficient width (bits)")
    ap.add_argument("--verilator-samples", type=int, default=2_000_000)
    ap.add_argument("--icarus-samples", type=int, default=5_000)
    ap.add_argument("--cocotb-verilator-samples", type=int, default=20_000)
    ap.add_argument("--cocotb-icarus-samples", type=int, default=2_000)
    ap.add_argument("--no-255", action="store_true", help="skip the 255-tap filter")
    ap.add_argument("--no-cocotb", action="store_true")
    args = ap.parse_args(argv)

    designs = {"63-tap": (spec_from_json(args.spec.read_text()) if args.spec
                          else default_spec(63, args.bits))}
    if not args.no_255:
        designs["255-tap"] = default_spec(255, args.bits)
    with tempfile.TemporaryDirectory(prefix="bitsmith-hdl-bench-") as tmp:
        root = Path(tmp)
        cache = root / "cache"
        for label, spec in designs.items():
            t0 = time.perf_counter()
            verilog = fir_verilog(spec)
            print(f"\n== {label} filter ({spec.taps} taps, coefficient widths "
                  f"{min(spec.coef_widths)}-{max(spec.coef_widths)} bits); Verilog "
                  f"generated in {time.perf_counter() - t0:.1f} s")
            ports = fir_ports(spec)
            for sim in ("verilator", "icarus"):
                cold, lib, cached = build_times(verilog, ports, sim, root)
                print(f"{sim:9s} batch build: cold {cold:.1f} s, run-time library cached "
                      f"{lib:.1f} s, cached {cached:.3f} s")
            b = {}
            b["verilator"] = batch(spec, verilog, "verilator", args.verilator_samples, cache)
            b["icarus"] = batch(spec, verilog, "icarus", args.icarus_samples, cache)
            for sim, r in b.items():
                print(f"{sim:9s} batch : {r['rate']:12,.0f} samples/s wall "
                      f"({r['cpu_rate']:12,.0f} per CPU-s; {r['samples']} samples, 0 LSB)")
            cleaned = cleaned_netlist(verilog)
            c = batch(spec, cleaned, "icarus", args.icarus_samples, cache)
            print(f"icarus    batch, yosys-cleaned netlist: {c['rate']:,.0f} samples/s wall "
                  f"({c['cpu_rate']:,.0f} per CPU-s, x{c['cpu_rate'] / b['icarus']['cpu_rate']:.2f}"
                  f" of the emitted Verilog; 0 LSB)")
            if args.no_cocotb or label != "63-tap":
                continue
            for sim, n in (("verilator", args.cocotb_verilator_samples),
                           ("icarus", args.cocotb_icarus_samples)):
                r = cocotb(spec, verilog, sim, n, root / f"cocotb-{sim}")
                print(f"{sim:9s} cocotb: {r['rate']:12,.0f} samples/s wall with "
                      f"{r['fixed']:.1f} s fixed cost, {r['marginal_rate']:,.0f} marginal "
                      f"({r['samples']} samples, 0 LSB)")
                print(f"{sim:9s} batch / cocotb: x{b[sim]['rate'] / r['rate']:,.0f} "
                      f"(x{b[sim]['rate'] / r['marginal_rate']:,.0f} against cocotb's "
                      f"marginal rate)")


if __name__ == "__main__":
    main()
