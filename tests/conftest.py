"""Shared HDL fixtures: one build directory per design under test and simulator."""

from __future__ import annotations

import os
import shutil

import pytest


def _have(simulator: str) -> bool:
    if simulator == "icarus":
        return shutil.which("iverilog") is not None
    from bitsmith.sim.hdl import ensure_verilator

    try:
        ensure_verilator()
    except RuntimeError:
        return False
    return True


@pytest.fixture(scope="session")
def hdl_build_root(tmp_path_factory):
    """Root of the session's HDL build directories (under pytest's tmp dir)."""
    return tmp_path_factory.mktemp("hdl")


@pytest.fixture(scope="session")
def require_simulator():
    """Skip (saying what is missing) when a simulator is not installed."""

    def check(simulator: str) -> None:
        if not _have(simulator):
            message = f"{simulator} is not installed (see `bitsmith doctor`)"
            if os.environ.get("CI"):
                pytest.fail(message + ": CI installs every simulator, so this is an error")
            pytest.skip(message)

    return check


def _traced(name: str):
    import torch

    from bitsmith.hwmodels.dnn import trace_model
    from bitsmith.hwmodels.dnn.models import build

    model, shape = build(name)
    return trace_model(model, torch.zeros(shape, device="meta"))


@pytest.fixture(scope="session")
def resnet18():
    """ResNet-18's layers, traced once for every DNN cost test (layers are frozen)."""
    return _traced("resnet18")


@pytest.fixture(scope="session")
def mobilenet():
    """MobileNetV2's layers, traced once for every DNN cost test."""
    return _traced("mobilenet_v2")
