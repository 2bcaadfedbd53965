"""The ``kind: fir`` config: one frozen pydantic model per section, units in descriptions.

Everything the flow would otherwise reject later (taps the design method cannot meet,
crossed width ranges, a missing budget) is checked here, before any work starts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ...config import INT64_MAX, ConfigModel, ConfigPath, check

ROUNDINGS = ("truncate", "round_half_up", "round_half_even", "round_to_zero")
OVERFLOWS = ("wrap", "saturate")
Rounding = Literal["truncate", "round_half_up", "round_half_even", "round_to_zero"]
OverflowMode = Literal["wrap", "saturate"]
CompareMethod = Literal["ppso", "gcpso", "greedy", "mckp_greedy", "uniform", "random"]
Simulator = Literal["verilator", "icarus"]

#: The FIR design methods' limits on the filter length (taps).
MIN_TAPS, MAX_TAPS = 3, 1023


#: FilterConfig keys a FirDesign error message may name, most specific first (the error is
#: reported under the first one it mentions).
_DESIGN_KEYS = (("f_pass + f_stop", "edges"), ("needs width", "width"), ("width applies", "width"), ("designed with", "method"),
                ("max_error_db", "max_error_db"), ("numtaps", "numtaps"), ("cutoff", "cutoff"),
                ("width", "width"), ("beta", "beta"), ("window", "window"),
                ("bands", "bands"), ("desired", "desired"), ("weights", "weights"),
                ("phase", "phase"), ("coefficient", "coefficients"), ("method", "method"),
                ("edges", "edges"), ("fs", "fs"))

WindowSpec = str | list[str | float]


def user_taps(f: dict):
    """The user coefficients of a ``filter`` section (its ``model_dump``), scaled."""
    from ...sim.fir._coefficients import check_coefficients, load_coefficients

    c = f["coefficients"]
    h = load_coefficients(c) if isinstance(c, str) else check_coefficients(c)
    return h * f["coefficient_scale"]


def filter_design(f: dict, taps=None):
    """The :class:`~bitsmith.sim.FirDesign` of a ``filter`` section (its ``model_dump``);
    ``taps``: the user coefficients, already loaded (loaded here when None)."""
    from ...sim import FirDesign

    if f["coefficients"] is not None and taps is None:
        taps = user_taps(f)

    def tup(v):
        return None if v is None else tuple(v)

    return FirDesign(
        response=f["response"], edges=tuple(f["edges"]), numtaps=f["numtaps"],
        passband_ripple_db=f["passband_ripple_db"], stopband_atten_db=f["stopband_atten_db"],
        # user coefficients are not designed; firwin is a placeholder FirDesign accepts
        method="firwin" if taps is not None else f["method"], fs=f["fs"],
        window=tup(f["window"]) if isinstance(f["window"], list) else f["window"],
        beta=f["beta"], cutoff=tup(f["cutoff"]), width=f["width"],
        band_list=None if f["bands"] is None else tuple(tuple(b) for b in f["bands"]),
        desired=tup(f["desired"]), weights=tup(f["weights"]),
        coefficients=None if taps is None else tuple(float(v) for v in taps),
        max_error_db=f["max_error_db"], phase=f["phase"])


class FilterConfig(ConfigModel):
    """The frequency response to meet (and how its float taps are designed).

    Kinds (see README "Filter kinds"): a standard response from ``edges`` (or ``cutoff`` +
    ``width`` for the window methods), ``halfband``, ``multiband`` (``bands``/``desired``/
    ``weights``), user ``coefficients`` (a list or a file), and ``phase: minimum``.
    """

    response: Literal["lowpass", "highpass", "bandpass", "bandstop", "halfband",
                      "multiband"] | None = Field(
        "lowpass", description="response type; null only with user coefficients (spec: "
                               "max_error_db)")
    edges: Annotated[list[float], Field(max_length=4)] = Field(
        [], description="transition-band edges in increasing order, normalized to Nyquist = 1 "
                        "(or Hz when fs is given): 2 for lowpass/highpass/halfband, 4 for "
                        "bandpass/bandstop; none for multiband or with cutoff")
    numtaps: int | None = Field(None, ge=MIN_TAPS, le=MAX_TAPS,
                                description="filter length (taps); null estimates it from "
                                            "the targets")
    passband_ripple_db: float = Field(0.1, ge=1e-4, le=20, allow_inf_nan=False,
                                      description="largest passband deviation (+-dB)")
    stopband_atten_db: float = Field(60.0, ge=1, le=200, allow_inf_nan=False,
                                     description="smallest stopband attenuation (dB)")
    method: Literal["firwin", "remez", "firls", "kaiser"] = Field(
        "remez", description="design method (scipy.signal); default remez, kaiser for a "
                             "halfband")
    fs: float | None = Field(None, gt=0, allow_inf_nan=False,
                             description="sample rate (Hz) when the edges are in Hz")
    window: WindowSpec | None = Field(None, description="firwin: a scipy.signal.get_window "
                                      "name or [name, parameter...] (default: Kaiser from "
                                      "the targets)")
    beta: float | None = Field(None, ge=0, le=50, allow_inf_nan=False,
                               description="kaiser (and halfband): Kaiser window beta "
                                           "(default: kaiser_beta of the tighter target)")
    cutoff: Annotated[list[float], Field(min_length=1, max_length=2)] | None = Field(
        None, description="window methods: cutoff frequencies given to firwin, instead of "
                          "edges (needs width)")
    width: float | None = Field(None, gt=0, allow_inf_nan=False,
                                description="transition width with cutoff (edges are cutoff "
                                            "-+ width/2)")
    bands: Annotated[list[Annotated[list[float], Field(min_length=2, max_length=2)]],
                     Field(min_length=2, max_length=16)] | None = Field(
        None, description="multiband: [[lo, hi], ...] in increasing order (Nyquist = 1 or Hz)")
    desired: list[float] | None = Field(None, description="multiband: desired gain per band "
                                        "(0 = stopband)")
    weights: list[float] | None = Field(None, description="multiband: remez/firls weight per "
                                        "band (default 1/delta of its target)")
    coefficients: list[float] | ConfigPath | None = Field(
        None, description="user taps: a list, or a file (.coe radix 10/16, .npy, text with "
                          "one number per line) relative to the config's folder")
    coefficient_scale: float = Field(1.0, gt=0, allow_inf_nan=False,
                                     description="user coefficients are multiplied by this "
                                                 "(e.g. 2**-15 for a .coe of Q15 integers)")
    max_error_db: float | None = Field(None, lt=0, ge=-300, allow_inf_nan=False,
                                       description="spec on the quantization: max |H_q - H| "
                                                   "/ max |H| over 0..Nyquist (dB)")
    phase: Literal["linear", "minimum"] = Field("linear", description="minimum: "
                                                "scipy.signal.minimum_phase of a prototype "
                                                "for the squared spec")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        # method defaults by response (a halfband is a window design); user coefficients
        # without edges have no mask unless a response is named
        if isinstance(data, dict):
            data = dict(data)
            if "method" not in data and data.get("coefficients") is None:
                data["method"] = "kaiser" if data.get("response") == "halfband" else "remez"
            if (data.get("coefficients") is not None and "response" not in data
                    and not data.get("edges") and data.get("cutoff") is None):
                data["response"] = None
        return data

    @model_validator(mode="after")
    def _consistent(self):
        user = self.coefficients is not None
        if self.response == "multiband":
            check(self.bands is not None and self.desired is not None, "bands",
                  "a multiband response needs bands and desired")
        if self.cutoff is None and self.response not in ("multiband", None):
            need = 2 if self.response in ("lowpass", "highpass", "halfband") else 4
            check(len(self.edges) == need, "edges",
                  f"a {self.response} needs {need} band edges, not {len(self.edges)}")
        top = 1.0 if self.fs is None else self.fs / 2
        check(all(0 < e < top for e in self.edges), "edges",
              f"every edge must lie strictly between 0 and {top:g} "
              f"({'Nyquist = 1' if self.fs is None else 'fs/2 Hz'}), not {self.edges}")
        check(all(a < b for a, b in zip(self.edges, self.edges[1:], strict=False)), "edges",
              f"edges must increase, not {self.edges}")
        n = self.numtaps
        if n is not None and n % 2 == 0 and not user:
            check(self.method != "firls", "numtaps",
                  f"method firls needs an odd number of taps, not {n}")
            check(self.phase == "minimum" or self.response not in ("highpass", "bandstop"),
                  "numtaps", f"a {self.response} needs an odd number of taps (an even-length "
                             f"symmetric filter has a zero at Nyquist), not {n}")
        if not user:
            check("coefficient_scale" not in self.model_fields_set, "coefficient_scale",
                  "coefficient_scale applies to user coefficients only")
        else:
            check("method" not in self.model_fields_set, "method",
                  "user coefficients are not designed: drop method")
        taps = None
        if user:
            taps = self._user_taps()
        self._check_design(taps)
        return self

    def _user_taps(self):
        try:
            return user_taps(self.model_dump())
        except ValueError as e:
            check(False, "coefficients", str(e))

    def _check_design(self, taps):
        try:
            filter_design(self.model_dump(), taps)
        except ValueError as e:
            msg = str(e)
            key = next((k for text, k in _DESIGN_KEYS if text in msg), "response")
            check(False, key, msg)


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


class OutputConfig(ConfigModel):
    """The output format and its single rounding point."""

    int_bits: int | Literal["auto"] = Field(
        "auto", description="bits above the binary point, sign included (bits); auto: the "
                            "fewest for which no input can overflow (the L1 bound)")
    frac_bits: int = Field(17, ge=-32, le=48, description="bits below the binary point (bits)")
    rounding: Rounding = Field("round_half_up", description="rounding at the output")
    overflow: OverflowMode = Field("saturate", description="overflow handling at the output")
    allow_overflow: bool = Field(False, description="accept an int_bits that can overflow "
                                 "with overflow: wrap (saturate only warns)")

    @model_validator(mode="after")
    def _width(self):
        if self.int_bits == "auto":
            return self
        check(-32 <= self.int_bits <= 32, "int_bits",
              f"must be auto or an integer between -32 and 32, not {self.int_bits}")
        w = self.int_bits + self.frac_bits
        check(2 <= w <= 48, "frac_bits",
              f"the word (int_bits + frac_bits) must be 2 to 48 bits, not {w}")
        return self


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

    @model_validator(mode="after")
    def _fold(self):
        # a minimum-phase filter has no symmetry to fold; an explicit request is a mistake
        # (left at its default, folding is switched off where the taps are not symmetric)
        check(not (self.filter.phase == "minimum"
                   and "fold_symmetric" in self.implementation.model_fields_set
                   and self.implementation.fold_symmetric), "implementation",
              "fold_symmetric: true needs symmetric coefficients, and a minimum-phase filter "
              "has none: drop it or set it false")
        return self
