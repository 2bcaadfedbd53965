"""Verification of :class:`bitsmith.rtl.FirFilter` against the bit-true model.

:func:`verify_fir` streams the stimulus through the generated Verilog with the batch runner
(:mod:`bitsmith.sim.hdl._batch`: a compiled Verilator harness or an Icarus file-I/O
testbench, at the simulator's own speed) and compares every output sample with
:func:`bitsmith.sim.fir_filter` at 0 LSB and every output's clock with its input's clock
plus the generator's ``latency``. ``backend="cocotb"`` runs the same comparison through the
cocotb bench below, one Python call per clock (kept for the throughput benchmark).

The cocotb benches are for what a per-clock Python bench is good at:
``fir_protocol`` (:func:`fir_protocol_bench`) plays garbage on the payload bus while valid
is low, resets the filter in the middle of a stream, and checks that ``o.valid`` and a
valid ``o.payload`` never carry X or Z. ``fir_matches_model`` is the bulk comparison.

Layers of the cocotb benches (driver -> model -> checker, as cocotb's matrix_multiplier example):

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
``BITSMITH_FIR_SEED``
    Seed of the protocol bench's garbage and reset point.
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
from ._batch import StreamPorts, build_batch, gaps_from_valid

__all__ = [
    "VerifyResult",
    "fir_ports",
    "fir_protocol_bench",
    "fir_stimulus",
    "model_spec",
    "verify_fir",
]

_ENV = {
    "spec": "BITSMITH_FIR_SPEC",
    "stim": "BITSMITH_FIR_STIM",
    "valid": "BITSMITH_FIR_VALID",
    "latency": "BITSMITH_FIR_LATENCY",
    "summary": "BITSMITH_FIR_SUMMARY",
    "seed": "BITSMITH_FIR_SEED",
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


def fir_ports(spec: FirSpec, toplevel: str = "fir") -> StreamPorts:
    """The batch runner's view of ``FirFilter(spec)``: payload widths from the spec, an
    always-ready input and no output back-pressure (see :func:`bitsmith.rtl.fir_verilog`)."""
    return StreamPorts(toplevel, spec.input_format.word_bits, spec.output_format.word_bits)


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


def _bench_inputs(*keys: str):
    missing = [_ENV[k] for k in ("spec", "stim", "latency", "summary", *keys)
               if _ENV[k] not in os.environ]
    if missing:
        raise RuntimeError(f"the FIR bench needs environment variables {missing}")
    spec = spec_from_json(Path(os.environ[_ENV["spec"]]).read_text())
    x = np.load(os.environ[_ENV["stim"]])
    return spec, x, int(os.environ[_ENV["latency"]]), Path(os.environ[_ENV["summary"]])


async def _reset(dut, cycles: int = _RESET_CYCLES) -> None:
    from cocotb.triggers import ClockCycles, FallingEdge

    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


try:
    import cocotb
except ImportError:  # the bench module is importable (for verify_fir) without cocotb
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def fir_matches_model(dut):
        """Every output sample equals the bit-true model (0 LSB) at the generator's latency."""
        from cocotb.clock import Clock

        spec, x, latency, summary_path = _bench_inputs("valid")
        valid = np.load(os.environ[_ENV["valid"]])
        if int(valid.sum()) != len(x):
            raise ValueError(
                f"valid pattern must have one high clock per sample ({len(x)}), "
                f"not {int(valid.sum())}"
            )
        expected = fir_filter(model_spec(spec), x)  # model
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.i__valid.value = 0
        dut.i__payload.value = 0
        await _reset(dut)
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

    @cocotb.test()
    async def fir_protocol(dut):
        """Garbage while idle, reset mid-stream, no X/Z on valid or on a valid payload.

        The stream is cut in two at a seeded point; reset is asserted there (with valid high
        and garbage on the bus during it), outputs still in the pipeline are dropped, and
        after reset the filter must start from the zero state: the outputs of the second
        part equal the model run on the second part alone.
        """
        from cocotb.clock import Clock
        from cocotb.triggers import FallingEdge

        spec, x, latency, summary_path = _bench_inputs("seed")
        rng = np.random.default_rng(int(os.environ[_ENV["seed"]]))
        w = spec.input_format.word_bits
        lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
        cut = int(rng.integers(len(x) // 4, 3 * len(x) // 4 + 1))
        parts = (x[:cut], x[cut:])
        mspec = model_spec(spec)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.i__valid.value = 0
        dut.i__payload.value = int(rng.integers(lo, hi + 1))
        await _reset(dut)
        fe = FallingEdge(dut.clk)
        got: list[list[int]] = [[], []]
        x_errors = 0

        def sample(part: int) -> None:
            nonlocal x_errors
            v = dut.o__valid.value
            if not v.is_resolvable:
                x_errors += 1
            elif int(v):
                p = dut.o__payload.value
                if not p.is_resolvable:
                    x_errors += 1
                else:
                    got[part].append(p.to_signed())

        for part, xs in enumerate(parts):
            for s in xs:
                # 0-2 idle clocks with garbage on the payload bus before each sample
                for _ in range(int(rng.integers(0, 3))):
                    dut.i__valid.value = 0
                    dut.i__payload.value = int(rng.integers(lo, hi + 1))
                    await fe
                    sample(part)
                dut.i__valid.value = 1
                dut.i__payload.value = int(s)
                await fe
                sample(part)
            if part == 0:
                # reset mid-stream, valid high and garbage on the bus while it is asserted
                dut.i__valid.value = 1
                dut.rst.value = 1
                for _ in range(_RESET_CYCLES):
                    dut.i__payload.value = int(rng.integers(lo, hi + 1))
                    await fe
                    sample(0)  # the pipeline may still deliver before the reset edge
                dut.rst.value = 0
                dut.i__valid.value = 0
        dut.i__valid.value = 0
        for _ in range(latency + 2):
            await fe
            sample(1)
        exp = [fir_filter(mspec, p) for p in parts]
        n0 = len(got[0])
        summary = {
            "samples_in": int(len(x)),
            "cut": cut,
            "before_reset_ok": bool(n0 <= len(exp[0])
                                    and np.array_equal(np.asarray(got[0], np.int64),
                                                       exp[0][:n0])),
            "after_reset_ok": bool(np.array_equal(np.asarray(got[1], np.int64), exp[1])),
            "x_errors": x_errors,
        }
        summary_path.write_text(json.dumps(summary))
        assert summary["before_reset_ok"], summary
        assert summary["after_reset_ok"], summary
        assert x_errors == 0, summary


# -- the Python entries -------------------------------------------------------------------


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
    backend : str
        ``batch`` or ``cocotb``.
    build_cached : bool or None
        The batch build came from the cache (None for cocotb).
    build_seconds : float or None
        Build (or cache look-up) wall time of the batch runner (s).
    sim_seconds : float or None
        Simulation wall time of the batch runner (s).
    cycles : int or None
        Clocks simulated (batch runner).
    """

    samples_checked: int
    mismatches: int
    latency_errors: int
    first_mismatch: dict | None
    seconds: float
    simulator: str
    passed: bool
    backend: str = "batch"
    build_cached: bool | None = None
    build_seconds: float | None = None
    sim_seconds: float | None = None
    cycles: int | None = None


def _write_if_changed(path: Path, text: str) -> None:
    # keeps the source's timestamp so the simulator build is reused
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def verify_fir(
    spec: FirSpec,
    simulator: str,
    build_dir=None,
    n_random: int = 10_000,
    *,
    seed: int = 0,
    gaps: bool = True,
    x: np.ndarray | None = None,
    verilog: str | None = None,
    backend: str = "batch",
    cache_dir=None,
    jobs: int = 1,
    simplify: bool = False,
) -> VerifyResult:
    """Stream samples through the generated RTL and compare every output with the model.

    Parameters
    ----------
    spec : FirSpec
    simulator : {"verilator", "icarus"}
    build_dir : path, optional
        Working folder: the cocotb build (reused when the Verilog is unchanged), or the
        batch runner's stimulus files (default: a temporary folder). The batch build itself
        lives in the build cache (``cache_dir``).
    n_random : int
        Random full-scale samples after the deterministic sets (samples).
    seed : int
        Seed of the random samples and gaps.
    gaps : bool
        Random gaps in the valid pattern.
    x : array of int, optional
        Use these raw samples instead (valid every clock).
    verilog : str, optional
        The Verilog of ``FirFilter(spec)`` (module ``fir``) when the caller has it already
        (default: :func:`bitsmith.rtl.fir_verilog`).
    backend : {"batch", "cocotb"}
        The batch runner (default) or the per-clock cocotb bench.
    cache_dir : path, optional
        Root of the batch build cache (default :func:`~bitsmith.sim.hdl.hdl_cache_dir`).
    jobs : int
        Batch runner: cut the stream into this many contiguous pieces simulated in
        parallel, each from reset and each compared with the model run on that piece
        (the random samples are independent, so nothing is lost but ``L - 1`` samples of
        filter history at each cut).
    simplify : bool
        Batch runner on Icarus: simulate the netlist after the yosys clean-up pass
        (:func:`~bitsmith.sim.hdl.simplify_netlist`), about 2x faster.

    Returns
    -------
    VerifyResult
    """
    from ...rtl import fir_latency, fir_verilog

    if backend not in ("batch", "cocotb"):
        raise ValueError(f"backend must be 'batch' or 'cocotb', not {backend!r}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    if x is None:
        x, valid = fir_stimulus(spec, n_random, rng, gaps=gaps)
    else:
        x = np.asarray(x, dtype=np.int64)
        valid = np.ones(len(x), dtype=bool)
    if verilog is None:
        verilog = fir_verilog(spec, name="fir")
    latency = fir_latency(spec)
    if backend == "cocotb":
        return _verify_cocotb(spec, simulator, build_dir, x, valid, verilog, latency, t0)
    b = build_batch(verilog, fir_ports(spec), simulator, cache_dir=cache_dir,
                    simplify=simplify)
    gaps_all = gaps_from_valid(valid)
    cuts = np.linspace(0, len(x), max(1, min(int(jobs), len(x) or 1)) + 1).astype(int)
    pieces = [(x[a:c], gaps_all[a:c]) for a, c in zip(cuts[:-1], cuts[1:], strict=True)]
    mspec = model_spec(spec)

    def one(piece):
        xs, gs = piece
        r = b.run(xs, gaps=gs, tail=latency + 2,
                  work_dir=None if build_dir is None or len(pieces) > 1 else build_dir)
        return r, check(fir_filter(mspec, xs), r.y, r.in_cycles, r.out_cycles, latency)

    if len(pieces) == 1:
        runs = [one(pieces[0])]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(pieces)) as pool:
            runs = list(pool.map(one, pieces))
    first = None
    for (_, s), a in zip(runs, cuts[:-1], strict=True):
        if first is None and s["first_mismatch"] is not None:
            first = dict(s["first_mismatch"], index=s["first_mismatch"]["index"] + int(a))
    total = {k: sum(s[k] for _, s in runs)
             for k in ("samples_checked", "mismatches", "latency_errors")}
    ok = (total["mismatches"] == 0 and total["latency_errors"] == 0
          and not any(r.timed_out for r, _ in runs) and total["samples_checked"] == len(x))
    return VerifyResult(
        samples_checked=total["samples_checked"],
        mismatches=total["mismatches"],
        latency_errors=total["latency_errors"],
        first_mismatch=first,
        seconds=time.perf_counter() - t0,
        simulator=simulator,
        passed=ok,
        backend="batch",
        build_cached=b.cached,
        build_seconds=b.seconds,
        sim_seconds=max(r.seconds for r, _ in runs),
        cycles=sum(r.cycles for r, _ in runs),
    )


def _bench_files(build_dir: Path, spec: FirSpec, x: np.ndarray, verilog: str) -> dict:
    build_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(build_dir / "fir.v", verilog)
    files = {
        "spec": build_dir / "spec.json",
        "stim": build_dir / "stim.npy",
        "summary": build_dir / "summary.json",
    }
    files["spec"].write_text(spec_to_json(spec))
    np.save(files["stim"], x)
    files["summary"].unlink(missing_ok=True)
    return files


def _verify_cocotb(spec, simulator, build_dir, x, valid, verilog, latency, t0) -> VerifyResult:
    from ._tools import run_cocotb

    if build_dir is None:
        raise ValueError("the cocotb backend needs a build_dir")
    build_dir = Path(build_dir).resolve()
    files = _bench_files(build_dir, spec, x, verilog)
    files["valid"] = build_dir / "valid.npy"
    np.save(files["valid"], valid)
    env = {_ENV[k]: str(p) for k, p in files.items()}
    env[_ENV["latency"]] = str(latency)
    res = run_cocotb([build_dir / "fir.v"], "fir", "bitsmith.sim.hdl.fir_bench", simulator,
                     build_dir, env=env, testcase="fir_matches_model")
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
        backend="cocotb",
    )


def fir_protocol_bench(spec: FirSpec, simulator: str, build_dir, *, n: int = 300,
                       seed: int = 0, verilog: str | None = None) -> tuple[bool, dict]:
    """Run the cocotb ``fir_protocol`` bench (garbage while idle, reset mid-stream, X/Z).

    Parameters
    ----------
    spec : FirSpec
    simulator : {"verilator", "icarus"}
    build_dir : path
        cocotb build folder (reused when the Verilog is unchanged).
    n : int
        Samples streamed: impulse, step, worst-case sequences, then random (samples).
    seed : int
        Seed of the random samples, the garbage and the reset point.
    verilog : str, optional
        The Verilog of ``FirFilter(spec)`` (default: generated here).

    Returns
    -------
    passed : bool
    summary : dict
        ``cut`` (samples before the reset), ``before_reset_ok``, ``after_reset_ok``,
        ``x_errors``.
    """
    from ...rtl import fir_latency, fir_verilog
    from ._tools import run_cocotb

    rng = np.random.default_rng(seed)
    x, _ = fir_stimulus(spec, max(0, n - 3 * spec.taps - 1), rng, gaps=False)
    build_dir = Path(build_dir).resolve()
    files = _bench_files(build_dir, spec, x, verilog or fir_verilog(spec, name="fir"))
    env = {_ENV[k]: str(p) for k, p in files.items()}
    env[_ENV["latency"]] = str(fir_latency(spec))
    env[_ENV["seed"]] = str(seed)
    res = run_cocotb([build_dir / "fir.v"], "fir", "bitsmith.sim.hdl.fir_bench", simulator,
                     build_dir, env=env, testcase="fir_protocol")
    if not files["summary"].is_file():
        raise RuntimeError(f"the FIR protocol bench wrote no summary; see "
                           f"{build_dir / 'test.log'}")
    return res.passed, json.loads(files["summary"].read_text())
