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
valid ``o.payload`` never carry X or Z. ``fir_matches_model`` is the bulk comparison;
``fir_backpressure`` (:func:`fir_backpressure_bench`) is the same comparison on an
AXI4-Stream design with seeded random ``m_axis_tready`` stalls and ``s_axis_tvalid`` gaps,
and also checks the AXI rule that a stalled output holds its data and valid.

Designs: the generator's own ports (Amaranth names, :func:`bitsmith.rtl.fir_verilog`
without an interface) or an emitted :class:`~bitsmith.rtl.FirInterface` (its port names
and, for ``axis``, the ready handshake on both sides); the batch runner and the cocotb bench
take the names from :func:`fir_ports`.

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
``BITSMITH_FIR_PORTS``
    JSON of the port name of each role (``clk``, ``rst``, ``i_data``, ``i_valid``,
    ``i_ready``, ``o_data``, ``o_valid``, ``o_ready``; the ready roles only for a design
    with back-pressure), default the generator's Amaranth names.
``BITSMITH_FIR_STALLS``
    ``.npy`` of the sink's per-clock ready pattern, repeated (bool; needs ``o_ready``).
``BITSMITH_FIR_RESET``
    The design's reset policy, ``all`` (default) or ``control``: what the protocol bench
    expects after its mid-stream reset.
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
from ._batch import StreamPorts, build_batch, gaps_from_valid, random_gaps, random_stalls

__all__ = [
    "VerifyResult",
    "fir_backpressure_bench",
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
    "ports": "BITSMITH_FIR_PORTS",
    "stalls": "BITSMITH_FIR_STALLS",
    "reset": "BITSMITH_FIR_RESET",
}
#: the generator's own port names (no interface)
AMARANTH_PORTS = {"clk": "clk", "rst": "rst", "i_data": "i__payload", "i_valid": "i__valid",
                  "o_data": "o__payload", "o_valid": "o__valid"}
_RESET_CYCLES = 2


def model_spec(spec: FirSpec) -> FirSpec:
    """The spec the RTL implements: :attr:`Overflow.RAISE` is built as SATURATE.

    Hardware cannot raise; saturation agrees with the model wherever the model does not
    raise, so the bench checks against the saturating model.
    """
    if spec.overflow is Overflow.RAISE:
        return dataclasses.replace(spec, overflow=Overflow.SATURATE)
    return spec


def fir_ports(spec: FirSpec, toplevel: str = "fir", interface=None) -> StreamPorts:
    """The batch runner's view of the emitted FIR: payload widths from the spec.

    Without ``interface``: ``FirFilter(spec)``'s own ports (Amaranth names), an
    always-ready input and no output back-pressure (see :func:`bitsmith.rtl.fir_verilog`).
    With a :class:`~bitsmith.rtl.FirInterface`: its module name (``toplevel`` is ignored)
    and port names, and the ready handshake on both sides for ``protocol="axis"``.
    """
    wi, wo = spec.input_format.word_bits, spec.output_format.word_bits
    if interface is None:
        return StreamPorts(toplevel, wi, wo)
    return StreamPorts.named(interface.module_name, wi, wo, interface.port_names())


def _port_roles(ports: StreamPorts) -> dict[str, str]:
    names = {r: getattr(ports, f) for r, f in StreamPorts.ROLES.items()}
    if not ports.in_ready:
        del names["i_ready"]
    if not ports.out_ready:
        del names["o_ready"]
    return names


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
    """Drives the input stream: sample ``k`` after ``gaps[k]`` idle clocks, held until taken.

    Inputs change after the falling edge; a sample is taken on a clock where valid and (when
    the design has one) ready are high. Without a ready port this plays the valid pattern
    exactly.
    """

    def __init__(self, dut, ports: dict, x: np.ndarray, gaps: np.ndarray):
        self.dut = dut
        self.ports = ports
        self.x = [int(v) for v in x]
        self.gaps = [int(g) for g in gaps]

    async def run(self, in_cycles: list[int]) -> None:
        """Play the stream; append the clock index of each taken sample to ``in_cycles``."""
        from cocotb.triggers import FallingEdge, ReadOnly

        dut, p = self.dut, self.ports
        fe, ro = FallingEdge(getattr(dut, p["clk"])), ReadOnly()
        payload, valid_h = getattr(dut, p["i_data"]), getattr(dut, p["i_valid"])
        ready = getattr(dut, p["i_ready"]) if "i_ready" in p else None
        cycle = 0
        for s, idle in zip(self.x, self.gaps, strict=True):
            while True:
                await fe  # inputs change away from the sampling (rising) edge
                if idle:
                    idle -= 1
                    valid_h.value = 0
                else:
                    payload.value = s
                    valid_h.value = 1
                    if ready is not None:
                        await ro
                    if ready is None or int(ready.value):
                        in_cycles.append(cycle)
                        cycle += 1
                        break
                cycle += 1
        await fe
        valid_h.value = 0


class FirMonitor:
    """Plays the sink's ready pattern and collects every accepted output with its clock.

    Also counts AXI4-Stream violations: a stalled output (valid high, ready low) whose
    valid drops or whose data changes on the next clock.
    """

    def __init__(self, dut, ports: dict, stalls=None):
        self.dut = dut
        self.ports = ports
        self.stalls = None if stalls is None else [bool(v) for v in stalls]
        self.samples: list[int] = []
        self.cycles: list[int] = []
        self.stall_clocks = 0  # clocks the output was valid and the sink not ready
        self.hold_errors = 0

    async def run(self, n_expected: int, tail: int, timeout: int = 10_000) -> None:
        """Watch until ``n_expected`` outputs plus ``tail`` clocks (or ``timeout`` idle)."""
        from cocotb.triggers import FallingEdge, ReadOnly

        dut, p = self.dut, self.ports
        fe, ro = FallingEdge(getattr(dut, p["clk"])), ReadOnly()
        o_valid, o_payload = getattr(dut, p["o_valid"]), getattr(dut, p["o_data"])
        o_ready = getattr(dut, p["o_ready"]) if "o_ready" in p else None
        if self.stalls is not None and o_ready is None:
            raise ValueError("output stalls need a design with an output ready port")
        cycle, last, done_at, held = 0, 0, None, None
        while done_at is None or cycle - done_at < tail:
            await fe
            sink = True if self.stalls is None else self.stalls[cycle % len(self.stalls)]
            if o_ready is not None:
                o_ready.value = int(sink)
            await ro
            # the output register loaded on the rising edge that ended clock `cycle - 1`
            v = int(o_valid.value)
            data = o_payload.value.to_signed() if v else None
            if held is not None and (not v or data != held):
                self.hold_errors += 1
            held = data if v and not sink else None
            if v and sink:
                self.samples.append(data)
                self.cycles.append(cycle)
                last = cycle
            elif v:
                self.stall_clocks += 1
            if done_at is None and len(self.samples) >= n_expected:
                done_at = cycle
            if cycle - last > timeout:
                break
            cycle += 1


def check(expected: np.ndarray, got: list[int], in_cycles, out_cycles, latency: int,
          *, stalled: bool = False) -> dict:
    """Checker: compare every output with the model and every output's timing.

    Every output must come exactly ``latency`` clocks after its input, or, when the sink
    ``stalled`` (back-pressure), no earlier than that.

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
    late_ok = lat >= latency if stalled else lat == latency
    return {
        "samples_in": int(len(expected)),
        "samples_out": int(len(got_a)),
        "samples_checked": int(n),
        "mismatches": int(bad.size) + abs(len(expected) - len(got_a)),
        "first_mismatch": first,
        "latency_errors": int(np.count_nonzero(~late_ok)),
    }


def _bench_inputs(*keys: str):
    missing = [_ENV[k] for k in ("spec", "stim", "latency", "summary", *keys)
               if _ENV[k] not in os.environ]
    if missing:
        raise RuntimeError(f"the FIR bench needs environment variables {missing}")
    spec = spec_from_json(Path(os.environ[_ENV["spec"]]).read_text())
    x = np.load(os.environ[_ENV["stim"]])
    return spec, x, int(os.environ[_ENV["latency"]]), Path(os.environ[_ENV["summary"]])


def _bench_ports() -> dict[str, str]:
    text = os.environ.get(_ENV["ports"])
    return json.loads(text) if text else dict(AMARANTH_PORTS)


async def _reset(dut, p: dict, cycles: int = _RESET_CYCLES) -> None:
    from cocotb.triggers import ClockCycles, FallingEdge

    clk, rst = getattr(dut, p["clk"]), getattr(dut, p["rst"])
    rst.value = 1
    await ClockCycles(clk, cycles)
    await FallingEdge(clk)
    rst.value = 0


async def _matches_model(dut, *, need_stalls: bool) -> None:
    """Stream the stimulus (gaps, optional sink stalls) and compare every output."""
    from cocotb.clock import Clock

    spec, x, latency, summary_path = _bench_inputs("valid")
    p = _bench_ports()
    valid = np.load(os.environ[_ENV["valid"]])
    if int(valid.sum()) != len(x):
        raise ValueError(
            f"valid pattern must have one high clock per sample ({len(x)}), "
            f"not {int(valid.sum())}"
        )
    stalls = np.load(os.environ[_ENV["stalls"]]) if os.environ.get(_ENV["stalls"]) else None
    if need_stalls and (stalls is None or "o_ready" not in p):
        raise RuntimeError("the back-pressure bench needs an output ready port and "
                           f"{_ENV['stalls']}")
    expected = fir_filter(model_spec(spec), x)  # model
    cocotb.start_soon(Clock(getattr(dut, p["clk"]), 10, unit="ns").start())
    getattr(dut, p["i_valid"]).value = 0
    getattr(dut, p["i_data"]).value = 0
    if "o_ready" in p:
        getattr(dut, p["o_ready"]).value = 0
    await _reset(dut, p)
    in_cycles: list[int] = []
    monitor = FirMonitor(dut, p, stalls)
    mon = cocotb.start_soon(monitor.run(len(x), latency + 2))
    await FirDriver(dut, p, x, gaps_from_valid(valid)).run(in_cycles)
    await mon
    summary = check(expected, monitor.samples, in_cycles, monitor.cycles, latency,
                    stalled=stalls is not None)
    summary.update(stall_clocks=monitor.stall_clocks, hold_errors=monitor.hold_errors,
                   input_wait_clocks=_input_waits(in_cycles, gaps_from_valid(valid)))
    summary_path.write_text(json.dumps(summary))
    assert summary["samples_out"] == summary["samples_in"], summary
    assert summary["mismatches"] == 0, summary
    assert summary["latency_errors"] == 0, summary
    assert summary["hold_errors"] == 0, summary


def _input_waits(in_cycles, gaps) -> int:
    """Clocks input samples were offered (valid high) but not taken (ready low)."""
    ic = np.asarray(in_cycles, dtype=np.int64)
    if ic.size == 0:
        return 0
    offered = np.concatenate([[0], ic[:-1] + 1]) + np.asarray(gaps[:ic.size], dtype=np.int64)
    return int((ic - offered).sum())


try:
    import cocotb
except ImportError:  # the bench module is importable (for verify_fir) without cocotb
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def fir_matches_model(dut):
        """Every output sample equals the bit-true model (0 LSB) at the generator's latency."""
        await _matches_model(dut, need_stalls=False)

    @cocotb.test()
    async def fir_backpressure(dut):
        """AXI4-Stream: random sink stalls and input gaps; no sample lost or duplicated,
        every output equal to the model (0 LSB), stalled outputs held."""
        await _matches_model(dut, need_stalls=True)

    @cocotb.test()
    async def fir_protocol(dut):
        """Garbage while idle, reset mid-stream, no X/Z on valid or on a valid payload.

        The stream is cut in two at a seeded point; reset is asserted there (with valid high
        and garbage on the bus during it, which the filter must ignore), outputs still in
        the pipeline are dropped. After reset, with reset policy ``all`` the filter starts
        from the zero state (the outputs of the second part equal the model run on the
        second part alone); with ``control`` the data registers keep the first part's
        samples (the outputs equal the model continued over the whole stream). A design
        with back-pressure gets a sink that always accepts and must be ready on every
        clock outside reset.
        """
        from cocotb.clock import Clock
        from cocotb.triggers import FallingEdge, ReadOnly

        spec, x, latency, summary_path = _bench_inputs("seed")
        rng = np.random.default_rng(int(os.environ[_ENV["seed"]]))
        w = spec.input_format.word_bits
        lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
        cut = int(rng.integers(len(x) // 4, 3 * len(x) // 4 + 1))
        parts = (x[:cut], x[cut:])
        mspec = model_spec(spec)
        ports = _bench_ports()
        policy = os.environ.get(_ENV["reset"], "all")
        if policy not in ("all", "control"):
            raise ValueError(f"{_ENV['reset']} must be 'all' or 'control', not {policy!r}")
        clk, rst = getattr(dut, ports["clk"]), getattr(dut, ports["rst"])
        iv, ip = getattr(dut, ports["i_valid"]), getattr(dut, ports["i_data"])
        ov, op = getattr(dut, ports["o_valid"]), getattr(dut, ports["o_data"])
        ready = getattr(dut, ports["i_ready"]) if "i_ready" in ports else None
        cocotb.start_soon(Clock(clk, 10, unit="ns").start())
        iv.value = 0
        ip.value = int(rng.integers(lo, hi + 1))
        if "o_ready" in ports:
            getattr(dut, ports["o_ready"]).value = 1
        await _reset(dut, ports)
        fe = FallingEdge(clk)
        got: list[list[int]] = [[], []]
        x_errors = 0
        ready_errors = 0

        def sample(part: int) -> None:
            nonlocal x_errors
            v = ov.value
            if not v.is_resolvable:
                x_errors += 1
            elif int(v):
                p = op.value
                if not p.is_resolvable:
                    x_errors += 1
                else:
                    got[part].append(p.to_signed())

        def check_ready() -> None:
            # the always-ready sink never stalls the filter: ready must be high outside reset
            nonlocal ready_errors
            if not ready.value.is_resolvable or not int(ready.value):
                ready_errors += 1

        for part, xs in enumerate(parts):
            for s in xs:
                # 0-2 idle clocks with garbage on the payload bus before each sample
                for _ in range(int(rng.integers(0, 3))):
                    iv.value = 0
                    ip.value = int(rng.integers(lo, hi + 1))
                    await fe
                    sample(part)
                iv.value = 1
                ip.value = int(s)
                if ready is not None:
                    await ReadOnly()  # ready after this clock's writes (rst) settle
                    check_ready()
                await fe
                sample(part)
            if part == 0:
                # reset mid-stream, valid high and garbage on the bus while it is asserted
                iv.value = 1
                rst.value = 1
                for _ in range(_RESET_CYCLES):
                    ip.value = int(rng.integers(lo, hi + 1))
                    await fe
                    sample(0)  # the pipeline may still deliver before the reset edge
                rst.value = 0
                iv.value = 0
        iv.value = 0
        for _ in range(latency + 2):
            await fe
            sample(1)
        if policy == "all":
            exp = [fir_filter(mspec, p) for p in parts]
        else:  # the delay line kept the first part across the reset
            whole = fir_filter(mspec, x)
            exp = [whole[:cut], whole[cut:]]
        n0 = len(got[0])
        summary = {
            "samples_in": int(len(x)),
            "cut": cut,
            "before_reset_ok": bool(n0 <= len(exp[0])
                                    and np.array_equal(np.asarray(got[0], np.int64),
                                                       exp[0][:n0])),
            "after_reset_ok": bool(np.array_equal(np.asarray(got[1], np.int64), exp[1])),
            "x_errors": x_errors,
            "ready_errors": ready_errors,
            "reset_policy": policy,
        }
        summary_path.write_text(json.dumps(summary))
        assert summary["before_reset_ok"], summary
        assert summary["after_reset_ok"], summary
        assert x_errors == 0, summary
        assert ready_errors == 0, summary


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
        Outputs not exactly ``latency`` clocks after their input (with sink stalls: earlier
        than that).
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
    stall_clocks : int
        Clocks the sink held its ready low (batch runner: of the clocks simulated; cocotb:
        while an output was valid).
    input_wait_clocks : int
        Clocks an input sample was offered but not taken (back-pressure reaching the input).
    idle_clocks : int
        Clocks the source held its valid low between samples (input gaps).
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
    stall_clocks: int = 0
    input_wait_clocks: int = 0
    idle_clocks: int = 0


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
    interface=None,
    p_stall: float = 0.0,
    p_idle: float = 0.0,
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
        The Verilog of ``FirFilter(spec)`` (module ``fir``, or as ``interface`` emits it)
        when the caller has it already (default: :func:`bitsmith.rtl.fir_verilog`).
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
    interface : FirInterface, optional
        The emitted module's interface (names, protocol); default the generator's own.
    p_stall : float
        Probability that the sink holds its ready low on a clock (seeded random pattern,
        :func:`~bitsmith.sim.hdl.random_stalls`); needs ``interface.protocol == "axis"``.
    p_idle : float
        When > 0, random input gaps over the whole stream (:func:`~bitsmith.sim.hdl.
        random_gaps` with this idle probability) instead of the stimulus's own.

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
    ports = fir_ports(spec, interface=interface)
    stalls = None
    if p_stall > 0:
        if not ports.out_ready:
            raise ValueError(f"sink stalls need a design with back-pressure (an "
                             f"{ports.out_ready_name} port), not {ports.toplevel}")
        stalls = random_stalls(rng, p_stall=p_stall)
    if p_idle > 0:
        gaps_all = random_gaps(len(x), rng, p_idle=p_idle)
        valid = np.zeros(len(x) + int(gaps_all.sum()), dtype=bool)
        valid[np.cumsum(gaps_all.astype(np.int64) + 1) - 1] = True
    else:
        gaps_all = gaps_from_valid(valid)
    if verilog is None:
        verilog = (fir_verilog(spec, name="fir") if interface is None
                   else fir_verilog(spec, interface=interface))
    latency = fir_latency(spec)
    if backend == "cocotb":
        return _verify_cocotb(spec, simulator, build_dir, x, valid, verilog, latency, t0,
                              ports, stalls)
    b = build_batch(verilog, ports, simulator, cache_dir=cache_dir, simplify=simplify)
    cuts = np.linspace(0, len(x), max(1, min(int(jobs), len(x) or 1)) + 1).astype(int)
    pieces = [(x[a:c], gaps_all[a:c]) for a, c in zip(cuts[:-1], cuts[1:], strict=True)]
    mspec = model_spec(spec)

    def one(piece):
        xs, gs = piece
        r = b.run(xs, gaps=gs, stalls=stalls, tail=latency + 2,
                  work_dir=None if build_dir is None or len(pieces) > 1 else build_dir)
        s = check(fir_filter(mspec, xs), r.y, r.in_cycles, r.out_cycles, latency,
                  stalled=stalls is not None)
        s["stall_clocks"] = _stall_clocks(stalls, r.cycles)
        s["input_wait_clocks"] = _input_waits(r.in_cycles, gs)
        s["idle_clocks"] = int(gs.sum())
        return r, s

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
             for k in ("samples_checked", "mismatches", "latency_errors", "stall_clocks",
                       "input_wait_clocks", "idle_clocks")}
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
        stall_clocks=total["stall_clocks"],
        input_wait_clocks=total["input_wait_clocks"],
        idle_clocks=total["idle_clocks"],
    )


def _stall_clocks(stalls, cycles: int) -> int:
    """Clocks of the first ``cycles`` where the repeated ready pattern ``stalls`` is low."""
    if stalls is None:
        return 0
    low = ~np.asarray(stalls, dtype=bool)
    full, rest = divmod(int(cycles), low.size)
    return int(full * low.sum() + low[:rest].sum())


def _bench_files(build_dir: Path, spec: FirSpec, x: np.ndarray, verilog: str,
                 toplevel: str = "fir") -> dict:
    build_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(build_dir / f"{toplevel}.v", verilog)
    files = {
        "spec": build_dir / "spec.json",
        "stim": build_dir / "stim.npy",
        "summary": build_dir / "summary.json",
    }
    files["spec"].write_text(spec_to_json(spec))
    np.save(files["stim"], x)
    files["summary"].unlink(missing_ok=True)
    return files


def _verify_cocotb(spec, simulator, build_dir, x, valid, verilog, latency, t0,
                   ports: StreamPorts, stalls=None) -> VerifyResult:
    from ._tools import run_cocotb

    if build_dir is None:
        raise ValueError("the cocotb backend needs a build_dir")
    build_dir = Path(build_dir).resolve()
    top = ports.toplevel
    files = _bench_files(build_dir, spec, x, verilog, top)
    files["valid"] = build_dir / "valid.npy"
    np.save(files["valid"], valid)
    if stalls is not None:
        files["stalls"] = build_dir / "stalls.npy"
        np.save(files["stalls"], np.asarray(stalls, dtype=bool))
    env = {_ENV[k]: str(p) for k, p in files.items()}
    env[_ENV["latency"]] = str(latency)
    env[_ENV["ports"]] = json.dumps(_port_roles(ports))
    res = run_cocotb([build_dir / f"{top}.v"], top, "bitsmith.sim.hdl.fir_bench", simulator,
                     build_dir, env=env,
                     testcase="fir_backpressure" if stalls is not None else "fir_matches_model")
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
        stall_clocks=s["stall_clocks"],
        input_wait_clocks=s["input_wait_clocks"],
        idle_clocks=int(gaps_from_valid(valid).sum()),
    )


def fir_backpressure_bench(spec: FirSpec, interface, simulator: str, build_dir, *,
                           n_random: int = 2000, seed: int = 0, p_stall: float = 0.3,
                           p_idle: float = 0.3, verilog: str | None = None) -> VerifyResult:
    """Run the cocotb ``fir_backpressure`` bench on an AXI4-Stream design.

    Seeded random ``m_axis_tready`` stalls (probability ``p_stall`` a clock) and
    ``s_axis_tvalid`` gaps (:func:`~bitsmith.sim.hdl.random_gaps`, ``p_idle``); every output
    compared with the model at 0 LSB, none missing or extra, each no earlier than the
    latency, and a stalled output must hold its data and valid (``passed`` covers all).

    Parameters
    ----------
    spec : FirSpec
    interface : FirInterface
        With ``protocol="axis"``.
    simulator : {"verilator", "icarus"}
    build_dir : path
        cocotb build folder.
    n_random : int
        Random full-scale samples after impulse, step and the worst-case sequences.
    seed : int
    p_stall, p_idle : float
        Probabilities of a sink stall and of an idle input clock.
    verilog : str, optional
        The emitted Verilog (default: generated here).
    """
    if not interface.backpressure:
        raise ValueError(f"the back-pressure bench needs protocol 'axis', not "
                         f"{interface.protocol!r}")
    return verify_fir(spec, simulator, build_dir, n_random, seed=seed, verilog=verilog,
                      backend="cocotb", interface=interface, p_stall=p_stall, p_idle=p_idle)


def fir_protocol_bench(spec: FirSpec, simulator: str, build_dir, *, n: int = 300,
                       seed: int = 0, verilog: str | None = None,
                       interface=None) -> tuple[bool, dict]:
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
    interface : FirInterface, optional
        The emitted module's interface (names, protocol, reset policy); default the
        generator's own ports with reset policy ``all``.

    Returns
    -------
    passed : bool
    summary : dict
        ``cut`` (samples before the reset), ``before_reset_ok``, ``after_reset_ok``,
        ``x_errors``, ``ready_errors``, ``reset_policy``.
    """
    from ...rtl import fir_latency, fir_verilog
    from ._tools import run_cocotb

    rng = np.random.default_rng(seed)
    x, _ = fir_stimulus(spec, max(0, n - 3 * spec.taps - 1), rng, gaps=False)
    build_dir = Path(build_dir).resolve()
    ports = fir_ports(spec, interface=interface)
    top = ports.toplevel
    if verilog is None:
        verilog = (fir_verilog(spec, name="fir") if interface is None
                   else fir_verilog(spec, interface=interface))
    files = _bench_files(build_dir, spec, x, verilog, top)
    env = {_ENV[k]: str(p) for k, p in files.items()}
    env[_ENV["latency"]] = str(fir_latency(spec))
    env[_ENV["seed"]] = str(seed)
    env[_ENV["ports"]] = json.dumps(_port_roles(ports))
    env[_ENV["reset"]] = "all" if interface is None else interface.reset
    res = run_cocotb([build_dir / f"{top}.v"], top, "bitsmith.sim.hdl.fir_bench", simulator,
                     build_dir, env=env, testcase="fir_protocol")
    if not files["summary"].is_file():
        raise RuntimeError(f"the FIR protocol bench wrote no summary; see "
                           f"{build_dir / 'test.log'}")
    return res.passed, json.loads(files["summary"].read_text())
