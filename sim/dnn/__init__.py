"""DNN quantization, bit-true: post-training quantization (fake-quant and integer paths
that agree exactly), Hessian and gradient sensitivities, training-free proxies,
multipoint quantization, and the digits models they are tested on.

torch is imported inside the functions that need it, so importing this package is cheap.
"""

from ._data import DigitsData, load_digits_split
from ._emq import (
    InvalidProgram,
    evolve_proxy,
    program_str,
    program_values,
    score_configs,
    spearman_at,
)
from ._models import (
    ARCHS,
    accuracy,
    build_digits_model,
    checkpoint_path,
    device,
    load_or_train,
    train_digits_model,
)
from ._multipoint import (
    MultipointLayer,
    channel_gradients,
    multipoint_allocate,
    multipoint_channel,
)
from ._quant import (
    ACC_BITS,
    MP_MULT_BITS,
    Calibration,
    QuantizedNetwork,
    UnsupportedModelError,
    calibrate,
    dequantize_logits,
    fake_forward,
    integer_forward,
    quantize_multipoint,
    quantize_network,
    quantize_weight,
    quantized_accuracy,
    weight_layers,
)
from ._sensitivity import (
    TraceEstimate,
    hawq_omega,
    hutchinson_traces,
    layer_tensors,
    mpqco_omega,
    proxies,
)

__all__ = [
    "ACC_BITS",
    "MP_MULT_BITS",
    "ARCHS",
    "Calibration",
    "DigitsData",
    "QuantizedNetwork",
    "UnsupportedModelError",
    "accuracy",
    "build_digits_model",
    "calibrate",
    "dequantize_logits",
    "checkpoint_path",
    "device",
    "fake_forward",
    "integer_forward",
    "load_digits_split",
    "load_or_train",
    "quantize_multipoint",
    "quantize_network",
    "quantize_weight",
    "quantized_accuracy",
    "train_digits_model",
    "TraceEstimate",
    "InvalidProgram",
    "evolve_proxy",
    "program_str",
    "program_values",
    "score_configs",
    "spearman_at",
    "MultipointLayer",
    "channel_gradients",
    "multipoint_allocate",
    "multipoint_channel",
    "hawq_omega",
    "hutchinson_traces",
    "layer_tensors",
    "mpqco_omega",
    "proxies",
    "weight_layers",
]
