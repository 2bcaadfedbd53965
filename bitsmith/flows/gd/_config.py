"""The ``kind: gd`` config: quantized gradient descent, bits per step under a total budget.

Checks that need the data (blocks beyond the coordinates, a budget below every variable at
``min_bits``, an exact enumeration too large) run in the flow before any work.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...config import INT64_MAX, ConfigModel, check
from ...sim.gd import MAX_GD_BITS, MIN_GD_BITS

Method = Literal["constant", "linear", "logarithmic", "exponential", "greedy", "ppso",
                 "gcpso", "exact"]
#: the increasing-precision schedules (shapes over the steps), besides constant
SCHEDULES = ("constant", "linear", "logarithmic", "exponential")
METHOD_NAMES = (*SCHEDULES, "greedy", "ppso", "gcpso", "exact")


class ProblemConfig(ConfigModel):
    """The convex problem and its data draws."""

    objective: Literal["least_squares", "logistic"] = Field(
        "least_squares", description="f(w) = ||Aw - y||^2 / (2n), or the L2-regularized "
                                     "logistic loss")
    dataset: Literal["synthetic", "breast_cancer"] = Field(
        "synthetic", description="synthetic Gaussian draws, or subsamples of scikit-learn's "
                                 "bundled breast-cancer set (logistic only)")
    n_samples: int = Field(200, ge=2, le=100_000, description="samples per data draw")
    n_features: int | None = Field(16, ge=1, le=1024, description="coordinates d of the "
                                   "synthetic set; null for breast_cancer (31 with the "
                                   "intercept)")
    condition: float = Field(3.0, ge=1.0, le=1e8, allow_inf_nan=False,
                             description="condition number of the synthetic feature "
                                         "covariance (ratio)")
    noise: float = Field(0.1, ge=0.0, le=1e6, allow_inf_nan=False,
                         description="least-squares target noise standard deviation (units "
                                     "of y)")
    reg: float = Field(0.01, gt=0.0, le=1e3, allow_inf_nan=False,
                       description="L2 regularization of the logistic loss (1/units of w^2)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.dataset == "breast_cancer":
            check(self.objective == "logistic", "dataset",
                  f"breast_cancer is a classification set: it needs objective logistic, "
                  f"not {self.objective!r}")
            check(self.n_features is None, "n_features",
                  f"breast_cancer has its own 31 coordinates: n_features must be null, not "
                  f"{self.n_features}")
            check(self.n_samples <= 569, "n_samples",
                  f"breast_cancer has 569 samples: n_samples must be at most 569, not "
                  f"{self.n_samples}")
        else:
            check(self.n_features is not None, "n_features",
                  "the synthetic set needs n_features (an integer), not null")
        return self


class DescentConfig(ConfigModel):
    """The quantized descent (``bitsmith.sim.gd.GdSpec``)."""

    n_steps: int = Field(24, ge=1, le=10_000, description="iterations T")
    step_scale: float = Field(1.0, gt=0.0, lt=2.0, allow_inf_nan=False,
                              description="step size eta = step_scale / L (L: the "
                                          "gradient's Lipschitz constant of each draw)")
    target: Literal["gradient", "iterate"] = Field("gradient", description="what step t "
                                                   "quantizes")
    allocation: Literal["step", "block", "step_block"] = Field(
        "step", description="allocation variables: one width per step, per coordinate "
                            "block, or per step and block")
    n_blocks: int = Field(1, ge=1, le=1024, description="contiguous coordinate blocks K, "
                          "each with its own range exponent")
    range_rule: Literal["fixed", "geometric", "max_abs"] = Field(
        "fixed", description="dynamic range [-2^e, 2^e) per step and block: fixed from the "
                             "step-0 vector, shrunk geometrically, or the block's max |x| "
                             "(block floating point)")
    range_decay: float = Field(0.8, gt=0.0, le=1.0, allow_inf_nan=False,
                               description="per-step range shrink factor of range_rule "
                                           "geometric (ratio)")
    headroom_bits: int = Field(0, ge=-16, le=16, description="extra integer bits above the "
                               "step-0 range (fixed, geometric) (bits)")
    rounding: Literal["truncate", "round_half_up", "round_half_even", "round_to_zero"] = \
        Field("round_half_even", description="rounding below the LSB")
    overflow: Literal["saturate", "wrap"] = Field("saturate", description="values beyond the "
                                                  "range")


class AllocationConfig(ConfigModel):
    """The budgets and the methods compared at each."""

    min_bits: int = Field(2, ge=MIN_GD_BITS, le=MAX_GD_BITS, description="narrowest word "
                          "(bits, sign included)")
    max_bits: int = Field(16, ge=MIN_GD_BITS, le=MAX_GD_BITS, description="widest word "
                          "(bits)")
    budgets: Annotated[list[int], Field(min_length=1, max_length=64)] = Field(
        [96, 144, 192], description="total-bits budgets sum_i b_i, increasing (bits)")
    methods: Annotated[list[Method], Field(min_length=1)] = Field(
        ["constant", "linear", "logarithmic", "exponential", "ppso", "gcpso"],
        description="methods run at every budget")
    schedule_span_bits: float = Field(8.0, ge=0.0, le=64.0, allow_inf_nan=False,
                                      description="end minus start width of the increasing "
                                                  "schedules before clipping (bits)")
    max_evaluations: int = Field(2000, ge=10, le=10**8, description="evaluation cap of PPSO "
                                 "and GC-PSO (the same for both)")
    seed_swarms: bool = Field(True, description="start particle 0 of PPSO and GC-PSO at the "
                              "best schedule of the run (on the search draws)")
    gcpso_sensitivity: Literal["model", "estimate"] = Field(
        "model", description="GC-PSO repair sensitivities: the quantization-noise model "
                             "of the descent, or estimated by evaluations at all-min_bits")
    n_particles: int = Field(30, ge=2, le=1000, description="PSO swarm size")
    exact_max_points: int = Field(200_000, ge=1, le=10**8, description="largest enumeration "
                                  "the exact method may do (allocations)")

    @model_validator(mode="after")
    def _consistent(self):
        check(self.min_bits <= self.max_bits, "min_bits",
              f"min_bits ({self.min_bits}) must not exceed max_bits ({self.max_bits})")
        check(all(0 <= b <= INT64_MAX for b in self.budgets), "budgets",
              f"budgets must be non-negative integers, not {self.budgets}")
        check(all(a < b for a, b in zip(self.budgets, self.budgets[1:], strict=False)),
              "budgets", f"budgets must increase, not {self.budgets}")
        check(len(set(self.methods)) == len(self.methods), "methods",
              f"methods must not repeat, not {self.methods}")
        return self


class EvaluationConfig(ConfigModel):
    """Data draws and seeds."""

    n_draws: int = Field(8, ge=1, le=10_000, description="data draws the search's objective "
                         "averages over")
    n_test_draws: int = Field(16, ge=1, le=100_000, description="fresh draws each found "
                              "allocation is scored on")
    n_seeds: int = Field(10, ge=1, le=1000, description="independent repetitions (data and "
                         "search seeds) for the confidence bands")


class GdConfig(ConfigModel):
    """``kind: gd``: bits per gradient-descent step (or block) under a total-bits budget."""

    kind: Literal["gd"]
    seed: int = Field(0, ge=0, le=INT64_MAX, description="seed of the data draws and the "
                      "searches")
    problem: ProblemConfig = Field(default_factory=ProblemConfig)
    descent: DescentConfig = Field(default_factory=DescentConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)


SCHEMA = GdConfig
