"""The ``kind: dnn_allocation`` config: one frozen pydantic model per section, units in the
descriptions; everything checkable without the model is checked here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from ...config import INT64_MAX, ConfigModel, check, resolve_path

Method = Literal["mckp_greedy", "mckp_dp", "ilp", "gcpso", "evolution", "random", "uniform"]
Metric = Literal["weight_bytes", "bops", "energy_uj", "latency_cycles"]
Bits = Annotated[int, Field(ge=1, le=16)]


def _widths(lo: int, hi: int):
    def check_list(v: list[int]) -> list[int]:
        bad = [b for b in v if not lo <= b <= hi]
        if bad:
            raise ValueError(f"every width must be between {lo} and {hi} bits, not {bad[0]}")
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"widths must be strictly increasing, not {v}")
        return v
    return AfterValidator(check_list)


WBitsList = Annotated[list[int], Field(min_length=1), _widths(1, 16)]
ABitsList = Annotated[list[int], Field(min_length=1), _widths(2, 16)]


def _factory(v: Any, info: ValidationInfo) -> Any:
    if v is None:
        return v
    if not isinstance(v, str) or v.count(":") != 1 or not v.split(":")[0].endswith(".py"):
        raise ValueError(f"must be 'FILE.py:function' (a function returning an nn.Sequential "
                         f"for 1x8x8 digits), not {v!r}")
    path, fn = v.split(":")
    return f"{resolve_path(path, info)}:{fn}"


class ModelConfig(ConfigModel):
    """The network and its training."""

    arch: Literal["digits_cnn", "digits_mlp"] = Field("digits_cnn", description="built-in "
                                                      "digits model")
    factory: Annotated[Any, AfterValidator(_factory)] = Field(
        None, description="'FILE.py:function' returning your own nn.Sequential (1x8x8 "
                          "input, 10 classes) instead of arch; relative to the config")
    epochs: int = Field(40, ge=1, le=1000, description="training epochs (Adam, batch 64)")
    seeds: Annotated[list[Annotated[int, Field(ge=0, le=2**31 - 1)]],
                     Field(min_length=1, max_length=64)] = Field(
        [0, 1, 2], description="training seeds: every result is reported as mean and spread "
                               "over them")
    cache_dir: str | None = Field(None, description="checkpoint folder (default: the "
                                  "bitsmith cache, <cache>/dnn)")


class QuantConfig(ConfigModel):
    """Post-training quantization."""

    rounding: Literal["truncate", "round_half_up", "round_half_even", "round_to_zero"] = Field(
        "round_half_even", description="rounding of every requantization")
    clip_search: bool = Field(True, description="per-channel weight clipping search")
    act_percentile: float = Field(100.0, ge=90, le=100, allow_inf_nan=False,
                                  description="activation range = this percentile of |x| "
                                              "on the calibration images (%)")


class SensitivityConfig(ConfigModel):
    """How the separable error tables are measured."""

    kind: Literal["hessian", "mpqco"] = Field("hessian", description="weight error model: "
                                              "HAWQ trace form or MPQCO output-gradient Omega")
    min_probes: int = Field(16, ge=2, le=100000, description="Hutchinson probes at least")
    max_probes: int = Field(256, ge=2, le=100000, description="Hutchinson probes at most")
    rel_tol: float = Field(0.1, gt=0, le=1, allow_inf_nan=False,
                           description="stop when every layer's CI half-width is within "
                                       "this fraction of its trace (fraction)")
    confidence: float = Field(0.95, gt=0.5, lt=1, allow_inf_nan=False,
                              description="level of the trace intervals (fraction)")

    @model_validator(mode="after")
    def _probes(self):
        check(self.min_probes <= self.max_probes, "min_probes",
              f"min_probes ({self.min_probes}) must not exceed max_probes ({self.max_probes})")
        return self


class AllocationConfig(ConfigModel):
    """Bit choices, constraints, budgets and methods."""

    accelerator: str = Field("bitfusion", description="built-in accelerator the costs come "
                             "from (bitfusion, bitserial, systolic_int8)")
    w_bits: WBitsList = Field(
        [2, 3, 4, 5, 6, 8], description="weight width choices (bits)")
    a_bits: ABitsList = Field(
        [8], description="activation width choices (bits); [8] is the weight-only variant")
    pin_first_last: Bits | None = Field(None, description="first and last layer fixed at "
                                        "this width for weights and activations (bits)")
    ties: list[Annotated[list[str], Field(min_length=2)]] = Field(
        [], description="groups of layer names forced to the same bits (e.g. a residual "
                        "downsample and its main path)")
    metric: Metric = Field("weight_bytes", description="budget of the sweep")
    sweep: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)] = Field(
        [0.1, 0.25, 0.4, 0.55, 0.7, 0.85], description="sweep budgets as fractions between "
                                                       "the cheapest and the dearest cost")
    budgets: dict[Metric, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        {}, description="extra budgets held at every sweep point (metric -> value in its "
                        "unit: bytes, bit-ops, uJ, cycles); solved by ilp")
    methods: Annotated[list[Method], Field(min_length=1)] = Field(
        ["mckp_greedy", "mckp_dp", "ilp", "uniform", "gcpso", "evolution", "random"],
        description="search methods; gcpso, evolution and random search measured accuracy")
    search_evals: int = Field(120, ge=10, le=100000, description="accuracy evaluations per "
                              "search of gcpso / evolution / random")
    search_images: int = Field(400, ge=10, le=10000, description="calibration images the "
                               "accuracy searches evaluate")

    @model_validator(mode="after")
    def _consistent(self):
        check(self.accelerator in ("bitfusion", "bitserial", "systolic_int8"), "accelerator",
              f"must be bitfusion, bitserial or systolic_int8, not {self.accelerator!r}")
        return self


class MqBenchConfig(ConfigModel):
    """The small MQ-Bench and the proxy ranking."""

    enabled: bool = Field(True, description="rank the proxies on sampled configurations")
    n_configs: int = Field(600, ge=20, le=729, description="sampled weight-bit configurations "
                           "(2-4 bits per layer, 8-bit activations)")
    fit_fraction: float = Field(0.5, gt=0, lt=1, allow_inf_nan=False,
                                description="share of configurations the evolved proxy is "
                                            "fitted on (the rest scores it)")
    generations: int = Field(60, ge=1, le=10000, description="proxy-evolution generations")


class MultipointConfig(ConfigModel):
    """Multipoint quantization at equal accelerator cost."""

    enabled: bool = Field(True, description="compare multipoint quantization")
    bits: Bits = Field(2, description="operand width of every point (bits)")


class DnnAllocConfig(ConfigModel):
    """``kind: dnn_allocation``: per-layer bits of a digits network under accelerator
    budgets, by several solvers on the same tables."""

    kind: Literal["dnn_allocation"]
    name: str = Field("", description="run label")
    seed: int = Field(0, ge=0, le=INT64_MAX, description="seed of the probes and searches")
    model: ModelConfig = Field(default_factory=ModelConfig)
    quantization: QuantConfig = Field(default_factory=QuantConfig)
    sensitivity: SensitivityConfig = Field(default_factory=SensitivityConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    mqbench: MqBenchConfig = Field(default_factory=MqBenchConfig)
    multipoint: MultipointConfig = Field(default_factory=MultipointConfig)
    plots: bool = Field(True, description="write PNG plots")


SCHEMA = DnnAllocConfig
