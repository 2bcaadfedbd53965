"""The ``bitsmith`` command line.

Exit status: 0 success; 1 the run finished but its design failed a check (summary says
which); 2 bad input (config, arguments) -- nothing is written; 3 a required tool is
missing or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__
from ._output import atomic_output_dir
from .config import ConfigError, load_config

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_TOOL = 0, 1, 2, 3


class ToolError(RuntimeError):
    """An external tool (simulator, synthesizer) is missing or failed.

    Flows may raise it; :class:`bitsmith.hwmodels.synth.SynthesisError` is treated alike.
    """


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bitsmith",
        description="Hardware-aware mixed-precision co-design: choose bit-widths under a "
        "hardware budget, simulate them bit-true, and emit verified Verilog.",
    )
    p.add_argument("--version", action="version", version=f"bitsmith {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("run", help="run the flow a config file describes",
                       description="Run the flow named by the config's `kind` "
                       "(fir, synthetic, dnn_estimate) and write its results to a directory.")
    r.add_argument("config", type=Path, help="YAML config (see configs/)")
    r.add_argument("-o", "--out", type=Path, default=None,
                   help="output directory (default: out/<config name>); replaced atomically")
    r.add_argument("--seed", type=int, default=None,
                   help="random seed (default: the config's `seed`, else 0)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    e = sub.add_parser("estimate", help="area/energy/latency of a DNN on an accelerator",
                       description="Estimate a PyTorch model's cost on an accelerator at a "
                       "bit configuration (config kind: dnn_estimate).")
    e.add_argument("config", type=Path, help="YAML config (see configs/dnn/)")
    e.add_argument("--bits", default=None,
                   help="uniform bits like w8a8, or a JSON file of per-layer bits "
                   "(overrides the config)")
    e.add_argument("-o", "--out", type=Path, default=None,
                   help="output directory (default: out/<config name>)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    sub.add_parser("doctor", help="list the external tools bitsmith uses and their versions")
    return p


def _run(config: Path, out: Path | None, seed: int | None, quiet: bool,
         overrides: dict | None = None, expect_kind: str | None = None) -> int:
    from .flows import FLOWS, RunContext

    try:
        kind, cfg = load_config(config)
        if expect_kind is not None and kind != expect_kind:
            raise ConfigError(f"this command needs kind {expect_kind!r}, not {kind!r}",
                              file=config, key_path="kind")
        if overrides:
            cfg = {**cfg, **overrides}
        flow = FLOWS[kind]
        seed = seed if seed is not None else int(cfg.get("seed", 0) or 0)
        out = out if out is not None else Path("out") / config.stem
        t0 = time.perf_counter()
        with atomic_output_dir(out) as tmp:
            ctx = RunContext(config_path=config, out_dir=tmp, seed=seed, quiet=quiet)
            if quiet:
                ctx.log = lambda message: None
            summary = flow.run(cfg, ctx)
            summary = {"kind": kind, "config": str(config), "seed": seed, **summary}
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True)
                                              + "\n")
    except ConfigError as e:
        print(f"bitsmith: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ToolError as e:
        print(f"bitsmith: tool error: {e}", file=sys.stderr)
        return EXIT_TOOL
    except Exception as e:
        from .hwmodels.synth import SynthesisError

        if isinstance(e, SynthesisError):  # yosys missing or failed: say so, no traceback
            print(f"bitsmith: tool error: {e}", file=sys.stderr)
            return EXIT_TOOL
        raise
    ok = bool(summary.get("ok", True))
    if not quiet:
        print(f"bitsmith: {kind} run {'passed' if ok else 'FAILED a check'} in "
              f"{time.perf_counter() - t0:.1f} s; results in {out}/", file=sys.stderr)
        for line in summary.get("headline", []):
            print(line)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _doctor() -> int:
    from .sim.hdl import install_hints, tool_versions

    versions = tool_versions()
    hints = install_hints(versions)
    width = max(len(name) for name in versions)
    missing = 0
    for name, version in versions.items():
        if version:
            print(f"  {name:<{width}}  {version}")
        else:
            missing += 1
            print(f"  {name:<{width}}  MISSING -- install with: {hints.get(name, '?')}")
    print(f"{len(versions) - missing} of {len(versions)} tools found")
    return EXIT_OK if missing == 0 else EXIT_TOOL


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bitsmith`` command."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args.config, args.out, args.seed, args.quiet)
    if args.command == "estimate":
        overrides = {"bits_override": args.bits} if args.bits else None
        return _run(args.config, args.out, None, args.quiet, overrides, "dnn_estimate")
    if args.command == "doctor":
        return _doctor()
    _parser().print_help()
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
