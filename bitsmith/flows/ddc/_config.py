"""The ``kind: ddc`` config: one frozen pydantic model per section, units in descriptions.

Everything the flow would reject later (a decimation that does not divide, an IF above
Nyquist, a stopband inside the passband, widths above 62 bits) is checked here, before any
work starts, so a bad file exits with status 2 and writes nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...config import INT64_MAX, ConfigModel, check

Simulator = Literal["verilator", "icarus"]
#: No width of the chain may exceed the bit-true model's int64 limit.
MAX_BITS = 62


class AdcConfig(ConfigModel):
    """The converter."""

    bits: int = Field(14, ge=2, le=MAX_BITS, description="ADC resolution (bits, at most 32)")
    sample_rate_hz: float = Field(61.44e6, gt=0, allow_inf_nan=False,
                                  description="ADC sample rate (Hz)")

    @model_validator(mode="after")
    def _fits(self):
        check(self.bits <= 32, "bits", f"ADC bits must be at most 32, not {self.bits}")
        return self


class DecimationConfig(ConfigModel):
    """The rate change: CIC x (half-band /2) x (CFIR /1 or /2)."""

    total: int = Field(64, ge=2, le=1 << 16, description="ADC rate / output rate")
    cic_stages: int = Field(4, ge=1, le=8, description="CIC integrator/comb pairs N")
    cic_diff_delay: int = Field(1, ge=1, le=2, description="CIC differential delay M")
    halfband_taps: int = Field(11, ge=0, le=255, description="half-band length (4k+3), "
                               "0 for none (then no /2 stage)")
    cfir_taps: int = Field(31, ge=0, le=255, description="compensation FIR length (0: none)")
    cfir_decimate: int = Field(2, ge=1, le=2, description="CFIR output kept 1 in this many")

    @model_validator(mode="after")
    def _divides(self):
        check(self.halfband_taps == 0 or self.halfband_taps % 4 == 3, "halfband_taps",
              f"a half-band has 4k+3 taps (7, 11, 15, ...) or 0, not {self.halfband_taps}")
        check(self.cfir_taps > 0 or self.cfir_decimate == 1, "cfir_decimate",
              "cfir_decimate 2 needs a CFIR (cfir_taps > 0)")
        after = (2 if self.halfband_taps else 1) * self.cfir_decimate
        check(self.total % after == 0, "total",
              f"the total decimation must be divisible by the half-band and CFIR rate "
              f"changes ({after}), not {self.total}")
        check(self.total // after >= 2, "total",
              f"the CIC must decimate by at least 2: total / {after} = {self.total / after:g}")
        return self

    @property
    def cic_decimation(self) -> int:
        return self.total // ((2 if self.halfband_taps else 1) * self.cfir_decimate)


class BandConfig(ConfigModel):
    """The output band, offsets from the carrier (Hz)."""

    passband_hz: float = Field(170e3, gt=0, allow_inf_nan=False,
                               description="passband edge (Hz)")
    stopband_hz: float = Field(350e3, gt=0, allow_inf_nan=False,
                               description="stopband edge (Hz)")


class NcoConfig(ConfigModel):
    """The oscillator's fixed choices."""

    phase_bits: int = Field(32, ge=8, le=48, description="phase accumulator (bits): tuning "
                            "step fs / 2^phase_bits")
    dither_bits: int = Field(0, ge=0, le=32, description="LFSR phase dither LSBs (0: none)")


class RangeConfig(ConfigModel):
    """Admissible widths of the allocated quantization points (bits)."""

    addr_bits: list[int] = Field([5, 13], min_length=2, max_length=2,
                                 description="NCO table address [min, max] (bits)")
    data_bits: list[int] = Field([8, 26], min_length=2, max_length=2,
                                 description="NCO amplitude, mixer, CIC/half-band/output "
                                             "widths [min, max] (bits)")
    coef_bits: list[int] = Field([6, 22], min_length=2, max_length=2,
                                 description="FIR coefficient widths [min, max] (bits)")
    cic_extra_max: int = Field(10, ge=0, le=MAX_BITS, description="extra LSBs a CIC register "
                               "may drop beyond Hogenauer (bits)")

    @model_validator(mode="after")
    def _ranges(self):
        for key, top in (("addr_bits", 14), ("data_bits", 30), ("coef_bits", 24)):
            lo, hi = getattr(self, key)
            check(lo <= hi, key, f"{key} must be [min, max] with min <= max, not {[lo, hi]}")
            check(hi <= MAX_BITS, key, f"{key} must be at most {MAX_BITS} bits, not {hi}")
            check(hi <= top, key, f"{key} must be at most {top} bits (the chain's "
                  f"structural limit), not {hi}")
            check(lo >= (2 if key == "addr_bits" else 4), key,
                  f"{key} must start at {2 if key == 'addr_bits' else 4} bits or more, not {lo}")
        return self


class AllocationConfig(ConfigModel):
    """The joint width search."""

    objective: Literal["snr", "luts"] = Field(
        "snr", description="snr: least LUTs with predicted output SNR >= snr_target_db; "
                           "luts: best SNR within budget_luts")
    snr_target_db: float = Field(60.0, ge=0, le=200, allow_inf_nan=False,
                                 description="output SNR target (dB, of the test signal)")
    budget_luts: int | None = Field(None, ge=1, le=INT64_MAX,
                                    description="LUT budget for objective luts (LUTs)")
    method: Literal["gcpso", "ppso"] = Field("gcpso", description="search method")
    n_particles: int = Field(20, ge=2, le=1000, description="PSO swarm size")
    n_iter: int = Field(40, ge=1, le=10000, description="PSO iterations")
    bisection_steps: int = Field(7, ge=1, le=30, description="LUT-budget bisection steps "
                                 "(objective snr)")
    ranges: RangeConfig = Field(default_factory=RangeConfig)

    @model_validator(mode="after")
    def _budget(self):
        check(self.objective == "snr" or self.budget_luts is not None, "budget_luts",
              f"objective {self.objective!r} needs a LUT budget")
        return self


class ChannelConfig(ConfigModel):
    """The hardware-in-the-loop test signal (offsets from the carrier)."""

    samples: int = Field(262_144, ge=16_384, le=1 << 26, description="ADC samples")
    symbol_rate_hz: float = Field(192e3, gt=0, allow_inf_nan=False,
                                  description="QPSK symbol rate (Hz)")
    rolloff: float = Field(0.35, ge=0.05, le=1, allow_inf_nan=False, description="RRC roll-off")
    offset_hz: float = Field(40e3, allow_inf_nan=False, description="burst offset from the "
                             "carrier (Hz)")
    signal_dbfs: float = Field(-9.0, le=0, allow_inf_nan=False, description="burst power "
                               "(dBFS, 0: a full-scale sine)")
    snr_db: float = Field(70.0, ge=-10, le=200, allow_inf_nan=False,
                          description="burst over white noise in the whole ADC band (dB)")
    interferer_offset_hz: float = Field(1.5e6, allow_inf_nan=False,
                                        description="stopband tone offset from the carrier (Hz)")
    interferer_dbfs: float = Field(-12.0, le=0, allow_inf_nan=False,
                                   description="interferer power (dBFS)")


class VerificationConfig(ConfigModel):
    """Lint and RTL-vs-model verification."""

    simulators: list[Simulator] = Field(["verilator", "icarus"],
                                        description="simulators the RTL is verified on")
    verilator_samples: int = Field(1_048_576, ge=0, le=1 << 28,
                                   description="ADC samples streamed on Verilator")
    icarus_samples: int = Field(32_768, ge=0, le=1 << 24,
                                description="ADC samples streamed on Icarus")
    lint: bool = Field(True, description="verilator --lint-only -Wall")


class SynthesisConfig(ConfigModel):
    """Synthesis of each stage with yosys."""

    enabled: bool = Field(True, description="run yosys synth_xilinx on each stage")
    device: Literal["xc7"] = Field("xc7", description="target FPGA family (Xilinx 7-series)")


class DdcConfig(ConfigModel):
    """``kind: ddc``: a jointly sized digital down-converter -> verified Verilog."""

    kind: Literal["ddc"]
    seed: int = Field(0, ge=0, le=INT64_MAX, description="seed of the search and the channel")
    adc: AdcConfig = Field(default_factory=AdcConfig)
    carrier_hz: float = Field(10.7e6, gt=0, allow_inf_nan=False, description="IF / carrier "
                              "brought to 0 Hz (Hz)")
    decimation: DecimationConfig = Field(default_factory=DecimationConfig)
    band: BandConfig = Field(default_factory=BandConfig)
    nco: NcoConfig = Field(default_factory=NcoConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    channel: ChannelConfig = Field(default_factory=ChannelConfig)
    verification: VerificationConfig = Field(default_factory=VerificationConfig)
    synthesis: SynthesisConfig = Field(default_factory=SynthesisConfig)

    @model_validator(mode="after")
    def _consistent(self):
        fs = self.adc.sample_rate_hz
        check(self.carrier_hz < fs / 2, "carrier_hz",
              f"the carrier must lie below Nyquist ({fs / 2:g} Hz), not {self.carrier_hz:g}")
        b = self.band
        check(b.passband_hz < b.stopband_hz, "band.stopband_hz",
              f"the stopband edge must lie above the passband edge ({b.passband_hz:g} Hz), "
              f"not {b.stopband_hz:g}")
        d = self.decimation
        fo = fs / d.total
        check(b.passband_hz < fo / 2, "band.passband_hz",
              f"the passband must lie below the output Nyquist rate ({fo / 2:g} Hz), "
              f"not {b.passband_hz:g}")
        if d.cfir_taps:
            cf_nyq = fs / d.cic_decimation / (2 if d.halfband_taps else 1) / 2
            check(b.stopband_hz < cf_nyq, "band.stopband_hz",
                  f"the stopband edge must lie below the CFIR's Nyquist rate ({cf_nyq:g} Hz), "
                  f"not {b.stopband_hz:g}")
        check(self.nco.dither_bits <= self.nco.phase_bits - self.allocation.ranges.addr_bits[1]
              - 2, "nco.dither_bits",
              f"dither_bits must be at most phase_bits - max addr_bits - 2 = "
              f"{self.nco.phase_bits - self.allocation.ranges.addr_bits[1] - 2}, "
              f"not {self.nco.dither_bits}")
        c = self.channel
        sps_in = fs / c.symbol_rate_hz
        sps_out = fo / c.symbol_rate_hz
        check(abs(sps_in - round(sps_in)) < 1e-9 and abs(sps_out - round(sps_out)) < 1e-9
              and round(sps_out) >= 2, "channel.symbol_rate_hz",
              f"the symbol rate must divide the ADC and output rates at >= 2 samples per "
              f"symbol ({fo:g} Hz out), not {c.symbol_rate_hz:g}")
        check(abs(c.offset_hz) + c.symbol_rate_hz * (1 + c.rolloff) / 2 <= b.passband_hz,
              "channel.offset_hz",
              f"the burst (offset +- (1 + rolloff) symbol_rate / 2) must lie in the passband "
              f"({b.passband_hz:g} Hz), not at {c.offset_hz:g} Hz")
        check(abs(c.interferer_offset_hz) >= b.stopband_hz, "channel.interferer_offset_hz",
              f"the interferer must lie in the stopband (|offset| >= {b.stopband_hz:g} Hz), "
              f"not {c.interferer_offset_hz:g}")
        check(0 < self.carrier_hz + c.interferer_offset_hz < fs / 2,
              "channel.interferer_offset_hz",
              f"the interferer must lie between 0 and Nyquist, not at "
              f"{self.carrier_hz + c.interferer_offset_hz:g} Hz")
        return self
