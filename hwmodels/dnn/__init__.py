"""DNN accelerator cost models: area, energy and latency of a network at any per-layer
``(bw, ba)`` bit configuration, and the cost tables the bit allocator consumes.

See ``hwmodels/dnn/README.md`` for the equations, conventions and accuracy.
"""

from ._accel import (
    ACCEL_KINDS,
    Accelerator,
    MemoryLevel,
    PeTable,
    Technology,
    accelerator_from_dict,
    builtin_accelerators,
    load_accelerator,
    pe_table,
)
from ._bits import BITS_RE, BitsError, bit_pair, parse_bits
from ._cost import (
    METRICS,
    CostTable,
    compute_cycles,
    cost_table,
    estimate,
    layer_costs,
    pair_code,
    parse_pair_code,
)
from ._layers import (
    KINDS,
    Layer,
    UnsupportedLayerError,
    layers_from_list,
    layers_to_list,
    trace_model,
)

__all__ = [
    "ACCEL_KINDS",
    "KINDS",
    "METRICS",
    "Accelerator",
    "BitsError",
    "CostTable",
    "Layer",
    "MemoryLevel",
    "PeTable",
    "Technology",
    "UnsupportedLayerError",
    "accelerator_from_dict",
    "builtin_accelerators",
    "compute_cycles",
    "cost_table",
    "estimate",
    "layer_costs",
    "layers_from_list",
    "layers_to_list",
    "load_accelerator",
    "pair_code",
    "parse_bits",
    "bit_pair",
    "BITS_RE",
    "parse_pair_code",
    "pe_table",
    "trace_model",
]
