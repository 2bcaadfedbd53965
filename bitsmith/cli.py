"""The ``bitsmith`` command line.

Exit status (the contract every path keeps; README "Exit status"):

=====  ======================================================================================
0      success
1      the run finished but its design failed a check (the summary says which)
2      bad input: config, arguments, or a file they name -- one line per error, nothing written
3      a tool is missing or failed (simulator, compiler, yosys), with the tool's last lines
4      internal error: a one-line message naming the log file that holds the traceback
130    interrupted (SIGINT); 143 terminated (SIGTERM) -- temporaries and child processes gone
=====  ======================================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import __version__
from ._output import cache_root, check_output_dir, output_dir, work_dir
from .config import INT64_MAX, ConfigError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_TOOL, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class ToolError(RuntimeError):
    """An external tool (simulator, synthesizer, compiler) is missing or failed (exit 3).

    Flows may raise it; :class:`bitsmith.sim.hdl.HdlToolError` and
    :class:`bitsmith.hwmodels.synth.SynthesisError` are treated alike.
    """


class Interrupted(BaseException):  # noqa: N818 (not an error: a request to stop)
    """SIGINT or SIGTERM arrived; unwinds the run so every cleanup handler runs."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too)
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(
        prog="bitsmith",
        description="Hardware-aware mixed-precision co-design: choose bit-widths under a "
        "hardware budget, simulate them bit-true, and emit verified Verilog.",
        epilog="exit status: 0 ok; 1 the design failed a check; 2 bad input; 3 a tool is "
        "missing or failed; 4 internal error; 130/143 interrupted.",
    )
    p.add_argument("--version", action="version", version=f"bitsmith {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)

    def output_args(q):
        q.add_argument("-o", "--out", default=None,
                       help="output directory (default: out/<config name>); replaces only a "
                       "directory bitsmith wrote, atomically")
        q.add_argument("--force", action="store_true",
                       help="allow -o to replace a non-empty directory bitsmith did not write")
        q.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    r = sub.add_parser("run", help="run the flow a config file describes",
                       description="Run the flow named by the config's `kind` "
                       "(fir, synthetic, dnn_estimate) and write its results to a directory.")
    r.add_argument("config", type=Path, help="YAML config (see configs/)")
    r.add_argument("--seed", type=int, default=None,
                   help="random seed, 0 to 2**63-1 (default: the config's `seed`)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run Monte Carlo batches and sweeps on a dask.distributed cluster: "
                   "tcp://HOST:PORT of a scheduler, or local:N for a local cluster of N "
                   "worker processes (results are identical to an in-process run)")
    output_args(r)

    e = sub.add_parser("estimate", help="area/energy/latency of a DNN on an accelerator",
                       description="Estimate a PyTorch model's cost on an accelerator at a "
                       "bit configuration (config kind: dnn_estimate).")
    e.add_argument("config", type=Path, help="YAML config (see configs/dnn/)")
    e.add_argument("--bits", default=None,
                   help="uniform bits like w8a8, or a JSON file of per-layer bits "
                   "(overrides the config)")
    output_args(e)

    s = sub.add_parser("schema", help="print the JSON Schema of a config kind",
                       description="Print the JSON Schema of a config kind, for editors that "
                       "validate and complete YAML (see README).")
    s.add_argument("kind", help="config kind (fir, synthetic, dnn_estimate)")

    sub.add_parser("doctor", help="list the external tools bitsmith uses and their versions")
    return p


# -- signals and child processes -------------------------------------------------------------

def _children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (Linux /proc; empty elsewhere), deepest last."""
    parent: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")  # noqa: PTH208 (thousands of entries, names only)
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1:
            parent[int(name)] = int(fields[1])
    out, frontier = [], [pid]
    while frontier:
        nxt = [c for c, pp in parent.items() if pp in frontier]
        out += nxt
        frontier = nxt
    return out


def terminate_children(grace_s: float = 2.0) -> None:
    """SIGTERM every descendant process, then SIGKILL what is left after ``grace_s``."""
    kids = _children_of(os.getpid())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in kids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 1.0)
        while time.monotonic() < deadline:
            kids = [k for k in kids if _exists(k)]
            if not kids:
                return
            time.sleep(0.05)


def _exists(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap our own zombies
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return b") Z " not in f.read()
    except OSError:
        return False


def _on_signal(signum, frame):
    # ignore further signals while cleaning up; the handlers are restored on exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    terminate_children()
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_unwind():
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# -- errors ----------------------------------------------------------------------------------

def _tool_error(e: BaseException) -> int:
    lines = str(e).rstrip().splitlines() or [type(e).__name__]
    print(f"bitsmith: tool error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  | {line}", file=sys.stderr)
    return EXIT_TOOL


def _internal_error(e: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    log = None
    try:
        logs = cache_root() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        log = logs / f"error-{stamp}-{os.getpid()}.log"
        log.write_text(f"bitsmith {__version__}, argv {sys.argv}\n" + traceback.format_exc())
    except OSError:
        log = None
    where = f"traceback in {log}" if log else "no log could be written"
    text = " ".join(f"{type(e).__name__}: {e}".split())
    if len(text) > 300:
        text = text[:297] + "..."
    print(f"bitsmith: internal error: {text} ({where}; --debug shows it)", file=sys.stderr)
    return EXIT_INTERNAL


def _is_tool_error(e: BaseException) -> bool:
    if isinstance(e, ToolError):
        return True
    from .hwmodels.synth import SynthesisError
    from .sim.hdl import HdlToolError

    return isinstance(e, (SynthesisError, HdlToolError))


# -- commands --------------------------------------------------------------------------------

def _check_bits_arg(bits: str) -> str:
    from .hwmodels.dnn import bit_pair  # here, not at import: the package loads torch

    pair = bit_pair(bits.strip())
    if pair is not None:
        for what, v in zip(("weight", "activation"), pair, strict=True):
            if not 1 <= v <= 32:
                raise ConfigError(f"{what} bits must be 1 to 32, not {v} (in {bits!r})",
                                  key_path="--bits")
        return bits
    p = Path(bits)
    if p.is_dir():
        raise ConfigError(f"must be like 'w8a8' or a JSON file of per-layer bits, not the "
                          f"directory {bits!r}", key_path="--bits")
    if not p.is_file():
        raise ConfigError(f"must be like 'w8a8' or a JSON file of per-layer bits; no such "
                          f"file: {bits!r}", key_path="--bits")
    return str(p.resolve())


_SCHEDULER_RE = re.compile(r"^(local:(?P<n>\d+)|(tcp|tls|ws|wss|inproc)://\S+|[\w.-]+:\d+)$")


@contextlib.contextmanager
def _executor(address: str | None):
    """The executor ``--scheduler`` names (None: in-process)."""
    if address is None:
        yield None
        return
    m = _SCHEDULER_RE.match(address.strip())
    if not m or (m.group("n") is not None and not 1 <= int(m.group("n")) <= 256):
        raise ConfigError(f"must be tcp://HOST:PORT, HOST:PORT or local:N with N from 1 to "
                          f"256, not {address!r}", key_path="--scheduler")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ToolError("--scheduler needs dask.distributed: pip install "
                        "'dask[distributed]' (or the bitsmith[cluster] extra)") from None
    cluster = None
    try:
        if m.group("n") is not None:
            cluster = LocalCluster(n_workers=int(m.group("n")), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout="10s")
    except OSError as e:
        if cluster is not None:
            cluster.close()
        raise ToolError(f"cannot reach the dask scheduler {address!r}: {e}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _temp_in(folder: Path):
    """Every temporary file of the run (ours, a library's, a child process's) in ``folder``,
    which is removed on every exit path."""
    old_dir, old_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = old_dir
        if old_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_env


def _run(args, overrides: dict | None = None, expect_kind: str | None = None) -> int:
    from .flows import FLOWS, RunContext, load_config

    config: Path = args.config
    quiet = args.quiet
    t0 = time.perf_counter()
    if args.seed is not None and not 0 <= args.seed <= INT64_MAX:
        raise ConfigError(f"must be between 0 and 2**63 - 1, not {args.seed}", key_path="--seed")
    kind, cfg, _ = load_config(config)
    if expect_kind is not None and kind != expect_kind:
        raise ConfigError(f"this command needs kind {expect_kind!r}, not {kind!r}",
                          file=config, key_path="kind")
    if overrides:
        cfg = {**cfg, **overrides}
    flow = FLOWS[kind]
    seed = args.seed if args.seed is not None else int(cfg.get("seed", 0) or 0)
    out_arg = args.out if args.out is not None else str(Path("out") / config.stem)
    out = check_output_dir(out_arg, config, force=args.force)
    meta = {"bitsmith": __version__, "kind": kind, "config": str(config), "seed": seed}
    with (_executor(getattr(args, "scheduler", None)) as executor, work_dir() as scratch,
          _temp_in(scratch), output_dir(out, meta) as tmp):
        ctx = RunContext(config_path=config, out_dir=tmp, seed=seed,
                         quiet=quiet, executor=executor)
        if quiet:
            ctx.log = lambda message: None
        summary = flow.run(cfg, ctx)
        summary = {"kind": kind, "config": str(config), "seed": seed, **summary}
        if ctx.warnings:
            summary["warnings"] = list(ctx.warnings)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    ok = bool(summary.get("ok", True))
    if not quiet:
        print(f"bitsmith: {kind} run {'passed' if ok else 'FAILED a check'} in "
              f"{time.perf_counter() - t0:.1f} s; results in {out_arg.rstrip('/')}/",
              file=sys.stderr)
        for line in summary.get("headline", []):
            print(line)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _schema(kind: str) -> int:
    from .flows import FLOWS

    if kind not in FLOWS:
        raise ConfigError(f"must be one of {', '.join(sorted(FLOWS))}, not {kind!r}",
                          key_path="schema KIND")
    schema = FLOWS[kind].model.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": f"bitsmith config, kind: {kind}", **schema}
    print(json.dumps(schema, indent=2, sort_keys=True))
    return EXIT_OK


def _doctor() -> int:
    from rich.console import Console
    from rich.table import Table

    from .sim.hdl import install_hints, tool_versions

    versions = tool_versions()
    hints = install_hints(versions)
    table = Table(box=None, show_header=False, pad_edge=False)
    missing = 0
    for name, version in versions.items():
        if version:
            table.add_row(f"  {name}", version)
        else:
            missing += 1
            table.add_row(f"  {name}", f"MISSING -- install with: {hints.get(name, '?')}")
    Console(width=120, highlight=False).print(table)
    print(f"{len(versions) - missing} of {len(versions)} tools found")
    return EXIT_OK if missing == 0 else EXIT_TOOL


def _dispatch(args) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "estimate":
        args.seed = None
        overrides = {"bits_override": _check_bits_arg(args.bits)} if args.bits else None
        return _run(args, overrides, "dnn_estimate")
    if args.command == "schema":
        return _schema(args.kind)
    if args.command == "doctor":
        return _doctor()
    _parser().print_help(sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bitsmith`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        with _signals_unwind():
            return _dispatch(args)
    except ConfigError as e:
        for line in e.lines:
            print(f"bitsmith: error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as e:
        print(f"bitsmith: stopped by {e.args[0]}; temporaries and child processes removed",
              file=sys.stderr)
        return EXIT_SIGINT if e.signum == signal.SIGINT else EXIT_SIGTERM
    except KeyboardInterrupt:
        print("bitsmith: stopped by SIGINT; temporaries removed", file=sys.stderr)
        return EXIT_SIGINT
    except BrokenPipeError:  # `bitsmith schema fir | head`: the reader went away
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (no flush error at exit)
        return EXIT_OK
    except Exception as e:
        if _is_tool_error(e):
            return _tool_error(e)
        return _internal_error(e, args.debug)


if __name__ == "__main__":
    sys.exit(main())
