"""Multi-antenna uplink receiver with per-antenna ADC resolution: channel, modulation,
quantizers with AGC, detectors (ZF, LMMSE, Bussgang LMMSE), Monte Carlo BER and the AQNM
closed forms. One frozen :class:`ReceiverSpec` drives it (and ``hwmodels.receiver``)."""

from ._aqnm import aqnm_mse, aqnm_sum_rate, mmse_diagonal, noise_to_signal, zf_qpsk_rayleigh_ber
from ._channel import (
    correlation_sqrt,
    demodulate,
    draw_channels,
    draw_channels_numpy,
    generator,
    modulate,
    seed_int,
    torch_device,
)
from ._detect import DETECTORS, adc, detector_matrices
from ._montecarlo import BerResult, ber_monte_carlo, simulate_batch, summarize
from ._quantizer import (
    AQNM_RHO_TABLE,
    MAX_1960_UNIFORM_STEP,
    aqnm_rho,
    cell_moments,
    lloyd_max,
    optimal_uniform_step,
    quantize_real,
    quantizer_stats,
    quantizer_tables,
    uniform_quantizer,
)
from ._spec import (
    CHANNELS,
    COST_MODELS,
    MAX_ADC_BITS,
    MIN_ADC_BITS,
    MODULATIONS,
    QUANTIZERS,
    ReceiverSpec,
)

__all__ = [
    "AQNM_RHO_TABLE",
    "CHANNELS",
    "COST_MODELS",
    "DETECTORS",
    "MAX_1960_UNIFORM_STEP",
    "MAX_ADC_BITS",
    "MIN_ADC_BITS",
    "MODULATIONS",
    "QUANTIZERS",
    "BerResult",
    "ReceiverSpec",
    "adc",
    "aqnm_mse",
    "aqnm_rho",
    "aqnm_sum_rate",
    "ber_monte_carlo",
    "cell_moments",
    "correlation_sqrt",
    "demodulate",
    "detector_matrices",
    "draw_channels",
    "draw_channels_numpy",
    "generator",
    "lloyd_max",
    "mmse_diagonal",
    "modulate",
    "noise_to_signal",
    "optimal_uniform_step",
    "quantize_real",
    "quantizer_stats",
    "quantizer_tables",
    "seed_int",
    "simulate_batch",
    "summarize",
    "torch_device",
    "uniform_quantizer",
    "zf_qpsk_rayleigh_ber",
]
