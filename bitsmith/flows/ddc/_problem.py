"""The joint width allocation the searches see: DdcWidths <-> an integer vector.

Variables, in chain order: NCO table address, NCO amplitude, mixer output, the 2N CIC
registers' extra LSBs beyond Hogenauer, CIC output, then (when built) half-band coefficients
and output, CFIR coefficients and the final output. The error is the predicted output
noise-to-signal ratio (:func:`~bitsmith.sim.ddc.predict_budget` over the test signal), the
cost the estimated LUTs (:func:`~bitsmith.hwmodels.ddc.ddc_cost`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...hwmodels.ddc import cic_cost, fir_stage_cost, nco_mixer_cost
from ...search import FunctionProblem
from ...sim.ddc import DdcDesign, DdcWidths, ddc_spec
from ...sim.ddc._budget import Component, predict_budget

__all__ = ["DdcProblem", "Signal"]


@dataclass(frozen=True)
class Signal:
    """The test signal the error is predicted for: components and total ADC power."""

    components: tuple[Component, ...]
    adc_power: float

    @property
    def output_power(self) -> float:
        """Burst power per output channel (fraction^2): a quarter of its ADC power."""
        return self.components[0].power / 4


class DdcProblem:
    """Encoding, error and cost of one design's width allocation."""

    def __init__(self, design: DdcDesign, signal: Signal, ranges: dict):
        self.design = design
        self.signal = signal
        N = design.cic_stages
        a, d, c = ranges["addr_bits"], ranges["data_bits"], ranges["coef_bits"]
        rd = tuple(range(d[0], d[1] + 1))
        rc = tuple(range(c[0], c[1] + 1))
        names = ["addr_bits", "amp_bits", "mixer_bits"]
        choices = [tuple(range(a[0], a[1] + 1)), rd, rd]
        names += [f"cic_extra{j + 1}" for j in range(2 * N)]
        choices += [tuple(range(0, ranges["cic_extra_max"] + 1))] * (2 * N)
        names.append("cic_out_bits")
        choices.append(rd)
        if design.halfband_taps:
            names += ["hb_coef_bits", "hb_out_bits"]
            choices += [rc, rd]
        if design.cfir_taps:
            names += ["cfir_coef_bits", "out_bits"]
            choices += [rc, rd]
        self.names = tuple(names)
        self.choices = tuple(choices)
        self._cache: dict = {}
        self._cost_cache: dict = {}

    def widths(self, x) -> DdcWidths:
        """The DdcWidths of vector ``x`` (the mixer is capped at the full product)."""
        v = dict(zip(self.names, (int(b) for b in x), strict=True))
        N = self.design.cic_stages
        amp = v["amp_bits"]
        mixer = min(v["mixer_bits"], self.design.adc_bits + amp - 1)
        extra = tuple(v[f"cic_extra{j + 1}"] for j in range(2 * N))
        d = self.design
        growth = math.ceil(N * math.log2(d.cic_decimation * d.cic_diff_delay) - 1e-12)
        cic_out = min(v["cic_out_bits"], mixer + growth)
        return DdcWidths(v["addr_bits"], amp, mixer, extra, cic_out,
                         v.get("hb_coef_bits", 16), v.get("hb_out_bits", 16),
                         v.get("cfir_coef_bits", 16), v.get("out_bits", v["cic_out_bits"]),
                         0)

    def vector(self, w: DdcWidths) -> np.ndarray:
        """Inverse of :meth:`widths`."""
        v = {"addr_bits": w.addr_bits, "amp_bits": w.amp_bits, "mixer_bits": w.mixer_bits,
             "cic_out_bits": w.cic_out_bits, "hb_coef_bits": w.hb_coef_bits,
             "hb_out_bits": w.hb_out_bits, "cfir_coef_bits": w.cfir_coef_bits,
             "out_bits": w.out_bits}
        v.update({f"cic_extra{j + 1}": e for j, e in enumerate(w.cic_extra)})
        return np.array([v[n] for n in self.names], dtype=np.int64)

    def luts(self, x) -> int:
        """Estimated LUTs of ``x`` (cached; cheap: the searches' repair calls it often)."""
        key = tuple(int(b) for b in x)
        hit = self._cost_cache.get(key)
        if hit is None:
            w = self.widths(key)
            spec = ddc_spec(self.design, w)
            # per stage, cached on the stage's own widths (the repair calls this a lot)
            k_nco = ("nco", w.addr_bits, w.amp_bits, w.mixer_bits)
            parts = [self._stage(k_nco, lambda: nco_mixer_cost(spec).luts),
                     cic_cost(spec.cic).luts]
            if spec.halfband is not None:
                k = ("hb", w.hb_coef_bits, w.cic_out_bits, w.hb_out_bits)
                parts.append(self._stage(k, lambda: fir_stage_cost(spec.halfband).luts))
            if spec.cfir is not None:
                k = ("cfir", w.cfir_coef_bits, spec.cfir.input_format.word_bits, w.out_bits)
                parts.append(self._stage(k, lambda: fir_stage_cost(spec.cfir).luts))
            hit = int(sum(parts))
            self._cost_cache[key] = hit
        return hit

    def _stage(self, key, fn) -> int:
        v = self._cost_cache.get(key)
        if v is None:
            v = self._cost_cache[key] = fn()
        return v

    def nsr(self, x) -> float:
        """Predicted output noise-to-signal ratio of ``x`` (cached)."""
        key = tuple(int(b) for b in x)
        hit = self._cache.get(key)
        if hit is None:
            w = self.widths(key)
            p = predict_budget(self.design, w, self.signal.components, self.signal.adc_power)
            hit = p["total"] / self.signal.output_power
            self._cache[key] = hit
        return hit

    def evaluate_one(self, x) -> tuple[float, int]:
        """(predicted noise-to-signal ratio, estimated LUTs) of ``x``."""
        return self.nsr(x), self.luts(x)

    def error(self, X) -> np.ndarray:
        return np.array([self.nsr(x) for x in np.asarray(X)], dtype=float)

    def cost(self, X) -> np.ndarray:
        return np.array([[self.luts(x)] for x in np.asarray(X)], dtype=np.int64)

    def snr_db(self, x) -> float:
        """Predicted output SNR of ``x`` (dB)."""
        return float(-10 * np.log10(self.nsr(x)))

    def problem(self, budget: int) -> FunctionProblem:
        """The search problem at LUT budget ``budget``."""
        return FunctionProblem(self.choices, (int(budget),), self.error, self.cost)
