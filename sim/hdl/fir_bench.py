"""cocotb testbench for :class:`bitsmith.rtl.FirFilter`, and :func:`verify_fir` that runs it.

Layers (driver -> model -> checker, as cocotb's matrix_multiplier example):

- :class:`FirDriver` plays the stimulus into ``i`` (payload and valid, one clock per entry
  of the valid pattern), changing inputs after the falling edge;
- the model is :func:`bitsmith.sim.fir_filter` on the whole input stream (the filter state
  runs across the stimulus sets, so the model sees the same one stream);
- :class:`FirMonitor` collects every valid ``o`` sample and the clock it came on, and the
  checker compares EVERY output with the model at 0 LSB and every output's clock with the
  input's clock plus the generator's ``latency``.

The bench reads its inputs from files named by environment variables, so it is driven by
:func:`verify_fir` (the CLI flow's hardware-in-the-loop step) and by the tests alike:

``BITSMITH_FIR_SPEC``
    JSON of the :class:`~bitsmith.sim.FirSpec` (:func:`~bitsmith.sim.spec_to_json`).
``BITSMITH_FIR_STIM``
    ``.npy`` of raw input samples (int64).
``BITSMITH_FIR_VALID``
    ``.npy`` of the per-clock valid pattern (bool; its number of ones equals the number of
    samples).
``BITSMITH_FIR_LATENCY``
    The generator's ``latency`` (cycles).
``BITSMITH_FIR_SUMMARY``
    Where the JSON summary goes: ``samples_checked``, ``mismatches``, ``first_mismatch``
    (index, got, expected or null), ``latency_errors``, ``samples_in``, ``samples_out``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fir._model import fir_filter, impulse, random_full_scale, step, worst_case_input
from ..fir._spec import FirSpec, spec_from_json, spec_to_json
from ..fixed import Overflow

__all__ = ["VerifyResult", "fir_stimulus", "model_spec", "verify_fir"]

_ENV = {
    "spec": "BITSMITH_FIR_SPEC",
    "stim": "BITSMITH_FIR_STIM",
    "valid": "BITSMITH_FIR_VALID",
    "latency": "BITSMITH_FIR_LATENCY",
    "summary": "BITSMITH_FIR_SUMMARY",
}
_RESET_CYCLES = 2


def model_spec(spec: FirSpec) -> FirSpec:
    """The spec the RTL implements: :attr:`Overflow.RAISE` is built as SATURATE.

    Hardware cannot raise; saturation agrees with the model wherever the model does not
    raise, so the bench checks against the saturating model.
    """
    if spec.overflow is Overflow.RAISE:
        return dataclasses.replace(spec, overflow=Overflow.SATURATE)
    return spec


def fir_stimulus(
    spec: FirSpec, n_random: int, rng: np.random.Generator, *, gaps: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The bench's stimulus: one stream of all stimulus sets, and its valid pattern.

    Sets, in order: full-scale impulse (L samples), full-scale step (L + 1), the worst-case
    sign sequences for both signs (each reaches an end of ``spec.acc_range``, the L1 bound),
    ``n_random`` random full-scale samples. Valid is high on every clock except, when
    ``gaps``, during the last tenth of the random samples (at least min(n_random, 1000)),
    where each clock is valid with probability 0.6 and a few gaps are longer than the
    filter.

    Parameters
    ----------
    spec : FirSpec
    n_random : int
        Random full-scale samples (samples).
    rng : numpy.random.Generator
    gaps : bool
        Put random gaps in the valid pattern.

    Returns
    -------
    x : numpy.ndarray of int64
        Raw input samples.
    valid : numpy.ndarray of bool
        Per-clock valid pattern, ``valid.sum() == len(x)``.
    """
    L = spec.taps
    x = np.concatenate(
        [
            impulse(spec, L),
            step(spec, L + 1),
            worst_case_input(spec, +1),
            worst_case_input(spec, -1),
            random_full_scale(spec, n_random, rng),
        ]
    ).astype(np.int64)
    n_gap = min(n_random, max(1000, n_random // 10)) if gaps else 0
    n_steady = len(x) - n_gap
    # per sample in the gap segment: idle clocks before it (mostly 0-2, sometimes > L)
    idle = rng.geometric(0.6, size=n_gap) - 1
    long = rng.random(n_gap) < 0.01
    idle[long] = L + rng.integers(1, 8, size=int(long.sum()))
    valid = np.ones(n_steady + n_gap + int(idle.sum()), dtype=bool)
    pos = n_steady + np.cumsum(idle + 1) - 1  # clock of each gap-segment sample
    valid[n_steady:] = False
    valid[pos] = True
    return x, valid


# -- the cocotb bench ---------------------------------------------------------------------


class FirDriver:
    """Drives ``i.payload``/``i.valid`` from a sample stream and a per-clock valid pattern."""

    def __init__(self, dut, x: np.ndarray, valid: np.ndarray):
        self.dut = dut
        self.x = [int(v) for v in x]
        self.valid = [bool(v) for v in valid]

    async def run(self, in_cycles: list[int]) -> None:
        """Play the stream; append the clock index of each valid sample to ``in_cycles``."""
        from cocotb.triggers import FallingEdge

        dut, fe = self.dut, FallingEdge(self.dut.clk)
        payload, valid_h = dut.i__payload, dut.i__valid
        it = iter(self.x)
        for cycle, v in enumerate(self.valid):
            await fe  # inputs change away from the sampling (rising) edge
            if v:
                payload.value = next(it)
                valid_h.value = 1
                in_cycles.append(cycle)
            else:
                valid_h.value = 0
        await fe
        valid_h.value = 0


class FirMonitor:
    """Collects every valid ``o`` sample with the clock it appeared on."""

    def __init__(self, dut):
        self.dut = dut
        self.samples: list[int] = []
        self.cycles: list[int] = []

    async def run(self, n_cycles: int) -> None:
        """Watch ``n_cycles`` clocks; sample after each falling edge (outputs are settled)."""
        from cocotb.triggers import FallingEdge

        dut, fe = self.dut, FallingEdge(self.dut.clk)
        o_valid, o_payload = dut.o__valid, dut.o__payload
        for cycle in range(n_cycles):
            await fe
            # the output register loaded on the rising edge ending input clock `cycle`
            if o_valid.value:
                self.samples.append(o_payload.value.to_signed())
                self.cycles.append(cycle)


def check(expected: np.ndarray, got: list[int], in_cycles, out_cycles, latency: int) -> dict:
    """Checker: compare every output with the model and every output's timing.

    Returns the summary dict (see the module docstring).
    """
    got_a = np.asarray(got, dtype=np.int64)
    n = min(len(expected), len(got_a))
    bad = np.flatnonzero(got_a[:n] != expected[:n])
    first = None
    if bad.size:
        k = int(bad[0])
        first = {"index": k, "got": int(got_a[k]), "expected": int(expected[k])}
    lat = np.asarray(out_cycles[:n]) - np.asarray(in_cycles[:n])
    return {
        "samples_in": int(len(expected)),
        "samples_out": int(len(got_a)),
        "samples_checked": int(n),
        "mismatches": int(bad.size) + abs(len(expected) - len(got_a)),
        "first_mismatch": first,
        "latency_errors": int(np.count_nonzero(lat != latency)),
    }


def _bench_inputs():
    missing = [v for v in _ENV.values() if v not in os.environ]
    if missing:
        raise RuntimeError(f"the FIR bench needs environment variables {missing}")
    spec = spec_from_json(Path(os.environ[_ENV["spec"]]).read_text())
    x = np.load(os.environ[_ENV["stim"]])
    valid = np.load(os.environ[_ENV["valid"]])
    return spec, x, valid, int(os.environ[_ENV["latency"]]), Path(os.environ[_ENV["summary"]])


try:
    import cocotb
except ImportError:  # the bench module is importable (for verify_fir) without cocotb
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def fir_matches_model(dut):
        """Every output sample equals the bit-true model (0 LSB) at the generator's latency."""
        from cocotb.clock import Clock
        from cocotb.triggers import ClockCycles, FallingEdge

        spec, x, valid, latency, summary_path = _bench_inputs()
        if int(valid.sum()) != len(x):
            raise ValueError(
                f"valid pattern must have one high clock per sample ({len(x)}), "
                f"not {int(valid.sum())}"
            )
        expected = fir_filter(model_spec(spec), x)  # model
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rst.value = 1
        dut.i__valid.value = 0
        dut.i__payload.value = 0
        await ClockCycles(dut.clk, _RESET_CYCLES)
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        in_cycles: list[int] = []
        monitor = FirMonitor(dut)
        mon = cocotb.start_soon(monitor.run(len(valid) + latency + 2))
        await FirDriver(dut, x, valid).run(in_cycles)
        await mon
        summary = check(expected, monitor.samples, in_cycles, monitor.cycles, latency)
        summary_path.write_text(json.dumps(summary))
        assert summary["samples_out"] == summary["samples_in"], summary
        assert summary["mismatches"] == 0, summary
        assert summary["latency_errors"] == 0, summary


# -- the Python entry ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_fir`.

    Attributes
    ----------
    samples_checked : int
        Output samples compared with the model (samples).
    mismatches : int
        Samples that differ (or are missing/extra).
    latency_errors : int
        Outputs not exactly ``latency`` clocks after their input.
    first_mismatch : dict or None
        ``index``, ``got``, ``expected`` of the first differing sample.
    seconds : float
        Wall time of build and simulation (s).
    simulator : str
    passed : bool
    """

    samples_checked: int
    mismatches: int
    latency_errors: int
    first_mismatch: dict | None
    seconds: float
    simulator: str
    passed: bool


def _write_if_changed(path: Path, text: str) -> None:
    # keeps the source's timestamp so the simulator build is reused
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def verify_fir(
    spec: FirSpec,
    simulator: str,
    build_dir,
    n_random: int = 10_000,
    *,
    seed: int = 0,
    gaps: bool = True,
    x: np.ndarray | None = None,
) -> VerifyResult:
    """Stream samples through the generated RTL and compare every output with the model.

    Generates the Verilog (:func:`bitsmith.rtl.fir_verilog`), builds it once per
    ``build_dir`` and runs the cocotb bench on :func:`fir_stimulus` (or on ``x``).

    Parameters
    ----------
    spec : FirSpec
    simulator : {"verilator", "icarus"}
    build_dir : path
        Build directory (reused when the Verilog is unchanged).
    n_random : int
        Random full-scale samples after the deterministic sets (samples).
    seed : int
        Seed of the random samples and gaps.
    gaps : bool
        Random gaps in the valid pattern.
    x : array of int, optional
        Use these raw samples instead (valid every clock unless ``gaps``: then the last
        tenth gets gaps as in :func:`fir_stimulus`).

    Returns
    -------
    VerifyResult
    """
    from ...rtl import fir_latency, fir_verilog
    from ._tools import run_cocotb

    t0 = time.perf_counter()
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if x is None:
        x, valid = fir_stimulus(spec, n_random, rng, gaps=gaps)
    else:
        x = np.asarray(x, dtype=np.int64)
        valid = np.ones(len(x), dtype=bool)
    src = build_dir / "fir.v"
    _write_if_changed(src, fir_verilog(spec, name="fir"))
    files = {
        "spec": build_dir / "spec.json",
        "stim": build_dir / "stim.npy",
        "valid": build_dir / "valid.npy",
        "summary": build_dir / "summary.json",
    }
    files["spec"].write_text(spec_to_json(spec))
    np.save(files["stim"], x)
    np.save(files["valid"], valid)
    files["summary"].unlink(missing_ok=True)
    env = {_ENV[k]: str(p) for k, p in files.items()}
    env[_ENV["latency"]] = str(fir_latency(spec))
    res = run_cocotb(
        [src],
        "fir",
        "bitsmith.sim.hdl.fir_bench",
        simulator,
        build_dir,
        env=env,
    )
    if not files["summary"].is_file():
        raise RuntimeError(f"the FIR bench wrote no summary; see {build_dir / 'test.log'}")
    s = json.loads(files["summary"].read_text())
    return VerifyResult(
        samples_checked=s["samples_checked"],
        mismatches=s["mismatches"],
        latency_errors=s["latency_errors"],
        first_mismatch=s["first_mismatch"],
        seconds=time.perf_counter() - t0,
        simulator=simulator,
        passed=res.passed and s["mismatches"] == 0 and s["latency_errors"] == 0,
    )
