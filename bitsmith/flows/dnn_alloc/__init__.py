"""Flow ``dnn_allocation``: per-layer bits of a digits network under accelerator budgets."""

from ._config import DnnAllocConfig
from ._flow import run, seed_job

__all__ = ["DnnAllocConfig", "run", "seed_job"]
