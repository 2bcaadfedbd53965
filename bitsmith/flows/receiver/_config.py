"""The ``kind: receiver`` config: one frozen pydantic model per section, units in
descriptions. Everything the flow would otherwise reject later (more users than antennas,
ADC bits outside 1..10, a budget below the all-minimum-bits consumption, an empty or
non-finite SNR list) is checked here, before any work starts."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...config import INT64_MAX, ConfigModel, check

Method = Literal["gcpso", "ppso", "uniform", "greedy", "mixed"]
Detector = Literal["zf", "lmmse", "bussgang"]
METHOD_NAMES = ("gcpso", "ppso", "uniform", "greedy", "mixed")
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class SystemConfig(ConfigModel):
    """Antennas, users, channel, modulation and the SNR points."""

    n_rx: int = Field(32, ge=4, le=256, description="receive antennas Nr")
    n_users: int = Field(8, ge=1, le=256, description="single-antenna users K (K <= Nr)")
    modulation: Literal["qpsk", "16qam"] = Field("16qam", description="Gray-mapped "
                                                 "constellation, unit symbol energy")
    channel: Literal["rayleigh", "exp_corr"] = Field(
        "rayleigh", description="i.i.d. Rayleigh, or exponential receive correlation")
    correlation: float = Field(0.5, ge=0.0, lt=1.0, allow_inf_nan=False,
                               description="r of the exponential correlation r^|i-j| "
                                           "(exp_corr only)")
    quantizer: Literal["uniform", "lloyd_max"] = Field(
        "uniform", description="uniform mid-rise ADC with the MSE-optimal Gaussian step, or "
                               "the Lloyd-Max quantizer")
    snr_db: Annotated[list[FiniteFloat], Field(min_length=1, max_length=32)] = Field(
        [0.0, 5.0, 10.0], description="Es/N0 per receive antenna of the Monte Carlo BER "
                                      "sweep (dB)")
    design_snr_db: float = Field(5.0, ge=-30, le=60, allow_inf_nan=False,
                                 description="Es/N0 at which the allocation is searched "
                                             "and BER-vs-budget is reported (dB)")

    @model_validator(mode="after")
    def _users(self):
        check(self.n_users <= self.n_rx, "n_users",
              f"n_users must not exceed n_rx ({self.n_rx}): linear detection needs Nr >= K, "
              f"not {self.n_users}")
        return self


class AdcConfig(ConfigModel):
    """ADC resolutions and the consumption model."""

    min_bits: int = Field(1, ge=1, le=10, description="lowest ADC resolution (bits)")
    max_bits: int = Field(10, ge=1, le=10, description="highest ADC resolution (bits)")
    cost_model: Literal["walden", "total_bits"] = Field(
        "walden", description="Walden power FOM*fs*2^b per ADC (I and Q), or 2*b bits per "
                              "antenna")
    fom_fj: float = Field(494.0, gt=0, le=1e6, allow_inf_nan=False,
                          description="Walden figure of merit (fJ per conversion step)")
    fs_mhz: float = Field(1000.0, gt=0, le=1e6, allow_inf_nan=False,
                          description="ADC sampling rate (MHz)")

    @model_validator(mode="after")
    def _ordered(self):
        check(self.min_bits <= self.max_bits, "min_bits",
              f"min_bits ({self.min_bits}) must not exceed max_bits ({self.max_bits})")
        return self


class BudgetConfig(ConfigModel):
    """The consumption budgets of the sweep."""

    unit: Literal["uniform_bits", "native"] = Field(
        "uniform_bits", description="uniform_bits: a budget is the consumption of every "
        "antenna at that many bits (fractional allowed); native: mW (walden) or bits "
        "(total_bits)")
    values: Annotated[list[FiniteFloat], Field(min_length=1, max_length=32)] = Field(
        [1.5, 2.5, 3.5, 4.5], description="budgets in `unit`")


class SearchConfig(ConfigModel):
    """Methods compared at each budget, their effort and the seeds."""

    methods: Annotated[list[Method], Field(min_length=1)] = Field(
        list(METHOD_NAMES), description="methods run side by side at every budget")
    max_evaluations: int = Field(1500, ge=20, le=10**7,
                                 description="evaluation cap of GC-PSO and PPSO (the same "
                                             "for both)")
    n_particles: int = Field(20, ge=2, le=1000, description="PSO swarm size")
    n_seeds: int = Field(5, ge=1, le=1000, description="independent channel draws and "
                                                       "search seeds (confidence bands)")


class MonteCarloConfig(ConfigModel):
    """Monte Carlo BER of the allocations found."""

    enabled: bool = Field(True, description="simulate the BER of every allocation found")
    detectors: Annotated[list[Detector], Field(min_length=1)] = Field(
        ["zf", "lmmse", "bussgang"], description="linear detectors simulated")
    min_errors: int = Field(100, ge=1, le=10**9, description="stop once every detector has "
                            "this many bit errors")
    max_batches: int = Field(8, ge=1, le=10**6, description="cap on the batches per point")
    batches_per_round: int = Field(2, ge=1, le=1024, description="batches run between two "
                                   "checks of the stopping rule")
    channels_per_batch: int = Field(16, ge=2, le=4096, description="independent blocks per "
                                    "batch (units of the interval)")
    symbols_per_block: int = Field(128, ge=1, le=10**6, description="symbols per user and "
                                   "block")


class SmallInstanceConfig(ConfigModel):
    """A small instance solved exactly by enumeration, for the heuristics' gaps."""

    enabled: bool = Field(True, description="run the small instance")
    n_rx: int = Field(6, ge=2, le=6, description="antennas of the small instance")
    n_users: int = Field(2, ge=1, le=6, description="users of the small instance")

    @model_validator(mode="after")
    def _users(self):
        check(self.n_users <= self.n_rx, "n_users",
              f"n_users must not exceed n_rx ({self.n_rx}), not {self.n_users}")
        return self


class ReceiverConfig(ConfigModel):
    """``kind: receiver``: per-antenna ADC bits of a multi-antenna uplink under a budget."""

    kind: Literal["receiver"]
    seed: int = Field(0, ge=0, le=INT64_MAX, description="random seed of channels, searches "
                      "and Monte Carlo")
    system: SystemConfig = Field(default_factory=SystemConfig)
    adc: AdcConfig = Field(default_factory=AdcConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    monte_carlo: MonteCarloConfig = Field(default_factory=MonteCarloConfig)
    small_instance: SmallInstanceConfig = Field(default_factory=SmallInstanceConfig)


def budget_errors(cfg: dict) -> list[tuple[str, str]]:
    """``(key_path, message)`` for every budget below the all-minimum-bits consumption or
    above the all-maximum one (the flow raises them as ConfigErrors before any work)."""
    a, vals = cfg["adc"], cfg["budget"]["values"]
    lo, hi = a["min_bits"], a["max_bits"]
    out = []
    if cfg["budget"]["unit"] == "uniform_bits":
        floor, ceil, unit = float(lo), float(hi), "uniform bits"
    else:
        n = cfg["system"]["n_rx"]
        if a["cost_model"] == "walden":
            per = n * 2 * a["fom_fj"] * 1e-15 * a["fs_mhz"] * 1e6 * 1e3
            floor, ceil, unit = per * 2.0**lo, per * 2.0**hi, "mW"
        else:
            floor, ceil, unit = float(n * 2 * lo), float(n * 2 * hi), "bits"
    for i, v in enumerate(vals):
        if v < floor * (1 - 1e-12):
            out.append((f"budget.values[{i}]",
                        f"every budget must be at least the all-{lo}-bit consumption "
                        f"{_g(floor)} {unit}, not {v:g}"))
        elif v > ceil * (1 + 1e-12):
            out.append((f"budget.values[{i}]",
                        f"a budget must not exceed the all-{hi}-bit consumption "
                        f"{_g(ceil)} {unit} (above it there is nothing to allocate), "
                        f"not {v:g}"))
    return out


def _g(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else str(x)


SCHEMA = ReceiverConfig
