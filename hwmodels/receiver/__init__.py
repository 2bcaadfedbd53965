"""Receiver ADC consumption: Walden figure-of-merit power as an integer cost, or total bits."""

from ._cost import (
    allocation_cost,
    allocation_power_w,
    antenna_cost,
    budget_from_uniform_bits,
    cost_table,
    cost_to_display,
    cost_unit_w,
    display_to_cost,
    uniform_cost,
)

__all__ = [
    "allocation_cost",
    "allocation_power_w",
    "antenna_cost",
    "budget_from_uniform_bits",
    "cost_table",
    "cost_to_display",
    "cost_unit_w",
    "display_to_cost",
    "uniform_cost",
]
