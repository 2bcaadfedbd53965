"""The ``kind: fir`` config: one frozen pydantic model per section, units in descriptions.

Everything the flow would otherwise reject later (taps the design method cannot meet,
crossed width ranges, a missing budget) is checked here, before any work starts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ...config import INT64_MAX, ConfigModel, check

ROUNDINGS = ("truncate", "round_half_up", "round_half_even", "round_to_zero")
OVERFLOWS = ("wrap", "saturate")
Rounding = Literal["truncate", "round_half_up", "round_half_even", "round_to_zero"]
OverflowMode = Literal["wrap", "saturate"]
CompareMethod = Literal["ppso", "gcpso", "greedy", "mckp_greedy", "uniform", "random"]
Simulator = Literal["verilator", "icarus"]

#: The FIR design methods' limits on the filter length (taps).
MIN_TAPS, MAX_TAPS = 3, 1023


class FilterConfig(ConfigModel):
    """The frequency response to meet."""

    response: Literal["lowpass", "highpass", "bandpass", "bandstop"] = Field(
        "lowpass", description="response type")
    edges: Annotated[list[float], Field(min_length=2, max_length=4)] = Field(
        description="transition-band edges in increasing order, normalized to Nyquist = 1 "
                    "(or Hz when fs is given): 2 for lowpass/highpass, 4 for bandpass/bandstop")
    numtaps: int | None = Field(None, ge=MIN_TAPS, le=MAX_TAPS,
                                description="filter length (taps); null estimates it from "
                                            "the targets")
    passband_ripple_db: float = Field(0.1, ge=1e-4, le=20, allow_inf_nan=False,
                                      description="largest passband deviation (+-dB)")
    stopband_atten_db: float = Field(60.0, ge=1, le=200, allow_inf_nan=False,
                                     description="smallest stopband attenuation (dB)")
    method: Literal["firwin", "remez", "firls"] = Field("remez", description="design method "
                                                        "(scipy.signal)")
    fs: float | None = Field(None, gt=0, allow_inf_nan=False,
                             description="sample rate (Hz) when the edges are in Hz")

    @model_validator(mode="after")
    def _consistent(self):
        need = 2 if self.response in ("lowpass", "highpass") else 4
        check(len(self.edges) == need, "edges",
              f"a {self.response} needs {need} band edges, not {len(self.edges)}")
        top = 1.0 if self.fs is None else self.fs / 2
        check(all(0 < e < top for e in self.edges), "edges",
              f"every edge must lie strictly between 0 and {top:g} "
              f"({'Nyquist = 1' if self.fs is None else 'fs/2 Hz'}), not {self.edges}")
        check(all(a < b for a, b in zip(self.edges, self.edges[1:], strict=False)), "edges",
              f"edges must increase, not {self.edges}")
        n = self.numtaps
        if n is not None and n % 2 == 0:
            check(self.method != "firls", "numtaps",
                  f"method firls needs an odd number of taps, not {n}")
            check(self.response not in ("highpass", "bandstop"), "numtaps",
                  f"a {self.response} needs an odd number of taps (an even-length symmetric "
                  f"filter has a zero at Nyquist), not {n}")
        return self


class FormatConfig(ConfigModel):
    """A two's-complement sample format Q(int_bits).(frac_bits), sign included in int_bits."""

    int_bits: int = Field(1, ge=-32, le=32, description="bits above the binary point, sign "
                          "included (bits)")
    frac_bits: int = Field(15, ge=-32, le=48, description="bits below the binary point (bits)")

    @model_validator(mode="after")
    def _width(self):
        w = self.int_bits + self.frac_bits
        check(2 <= w <= 48, "frac_bits",
              f"the word (int_bits + frac_bits) must be 2 to 48 bits, not {w}")
        return self


class OutputConfig(FormatConfig):
    """The output format and its single rounding point."""

    frac_bits: int = Field(17, ge=-32, le=48, description="bits below the binary point (bits)")
    rounding: Rounding = Field("round_half_up", description="rounding at the output")
    overflow: OverflowMode = Field("saturate", description="overflow handling at the output")


class ImplementationConfig(ConfigModel):
    """The datapath structure."""

    form: Literal["direct", "transposed"] = Field("direct", description="FIR form")
    fold_symmetric: bool = Field(True, description="one multiplier per symmetric pair "
                                 "(pre-adder)")
    multiplier: Literal["csd", "dsp"] = Field("csd", description="shift-add constants (LUT "
                                              "fabric) or `*` for DSP inference")
    pipeline: int = Field(1, ge=0, le=8, description="register the adder tree every this "
                          "many levels (0: output only)")


class InterfaceConfig(ConfigModel):
    """The emitted Verilog module as an FPGA design instantiates it."""

    module_name: str = Field("fir", description="Verilog module name (a letter or _, then "
                             "letters, digits or _; not a Verilog keyword); the files are "
                             "rtl/<module_name>.v and rtl/<module_name>_inst.v")
    prefix: str | None = Field(None, description="prefix of any helper module in the file "
                               "(null: module_name + '_')")
    protocol: Literal["axis", "valid"] = Field(
        "axis", description="axis: AXI4-Stream s_axis_*/m_axis_* with back-pressure "
                            "(m_axis_tready); valid: in_data/in_valid -> out_data/out_valid, "
                            "the sink always accepts")
    reset: Literal["control", "all"] = Field(
        "control", description="what the synchronous active-high rst clears: control (valid "
                               "and handshake only; data registers power up to 0) or all "
                               "registers")

    @field_validator("module_name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        from ...rtl.fir._interface import check_verilog_identifier

        return check_verilog_identifier(v, "module name")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        import re

        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError(f"prefix must start a Verilog identifier (a letter or _, then "
                             f"letters, digits or _), not {v!r}")
        return v


class TargetConfig(ConfigModel):
    """The FPGA family costs are estimated and synthesized for."""

    device: Literal["xc7", "ice40"] = Field("xc7", description="Xilinx 7-series (LUT6) or "
                                            "Lattice iCE40 (LUT4)")


class AllocationConfig(ConfigModel):
    """The coefficient-width search."""

    objective: Literal["spec", "max", "rms"] = Field(
        "spec", description="spec: least LUTs meeting the spec; max/rms: least response "
                            "error under budget_luts")
    budget_luts: int | None = Field(None, ge=1, le=INT64_MAX,
                                    description="LUT budget for objective max/rms (LUTs)")
    min_bits: int = Field(2, ge=2, le=32, description="narrowest coefficient (bits)")
    max_bits: int = Field(20, ge=2, le=32, description="widest coefficient (bits)")
    allow_pruning: bool = Field(True, description="width 0 allowed: a coefficient may be "
                                "dropped")
    method: Literal["gcpso", "ppso", "greedy"] = Field("gcpso", description="search method")
    compare: list[CompareMethod] = Field(["ppso", "greedy", "mckp_greedy", "uniform"],
                                         description="methods run at the same budget for "
                                                     "comparison")
    n_particles: int = Field(30, ge=2, le=1000, description="PSO swarm size")
    n_iter: int = Field(80, ge=1, le=10000, description="PSO iterations")
    gcpso_refill: bool = Field(False, description="GC-PSO greedy refill after repair")
    seed_from_surrogate: bool = Field(True, description="start one PSO particle at the MCKP "
                                      "optimum of the separable noise-power surrogate")
    polish: bool = Field(True, description="after the search, lower single coefficients while "
                         "the spec holds")
    bisection_steps: int = Field(7, ge=1, le=30, description="LUT-budget bisection steps "
                                 "(objective spec)")

    @model_validator(mode="after")
    def _consistent(self):
        check(self.min_bits <= self.max_bits, "min_bits",
              f"min_bits ({self.min_bits}) must not exceed max_bits ({self.max_bits})")
        check(self.objective == "spec" or self.budget_luts is not None, "budget_luts",
              f"objective {self.objective!r} needs a LUT budget")
        return self


class VerificationConfig(ConfigModel):
    """Lint and RTL-vs-model verification."""

    simulators: list[Simulator] = Field(["verilator", "icarus"],
                                        description="simulators the RTL is verified on")
    random_samples: int = Field(1_000_000, ge=0, le=100_000_000,
                                description="random full-scale samples on Verilator, plus "
                                            "impulse, step and worst-case sign sequences")
    icarus_share: float = Field(0.1, ge=0, le=1, allow_inf_nan=False,
                                description="Icarus runs this fraction of random_samples")
    icarus_simplify: bool = Field(True, description="Icarus simulates the netlist after yosys "
                                  "'wreduce; opt_clean' (2x faster; Verilator runs fir.v as "
                                  "is)")
    lint: bool = Field(True, description="verilator --lint-only -Wall")


class SynthesisConfig(ConfigModel):
    """Synthesis of the emitted Verilog."""

    enabled: bool = Field(True, description="run yosys on the emitted Verilog")


class ReportConfig(ConfigModel):
    """What the report measures."""

    noise_samples: int = Field(200_000, ge=1000, le=10_000_000,
                               description="samples of the bit-true noise measurement")
    pareto_points: int = Field(8, ge=0, le=100, description="budgets of the cost-vs-error "
                               "sweep (0: none)")


class FirConfig(ConfigModel):
    """``kind: fir``: coefficient widths under a LUT budget -> verified Verilog."""

    kind: Literal["fir"]
    seed: int = Field(0, ge=0, le=INT64_MAX, description="seed of the searches and the "
                      "random stimulus")
    filter: FilterConfig
    input: FormatConfig = Field(default_factory=FormatConfig,
                                description="input sample format")
    output: OutputConfig = Field(default_factory=OutputConfig,
                                 description="output sample format")
    implementation: ImplementationConfig = Field(default_factory=ImplementationConfig)
    interface: InterfaceConfig = Field(default_factory=InterfaceConfig,
                                       description="module name, ports and reset of the "
                                                   "emitted Verilog")
    target: TargetConfig = Field(default_factory=TargetConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    verification: VerificationConfig = Field(default_factory=VerificationConfig)
    synthesis: SynthesisConfig = Field(default_factory=SynthesisConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
