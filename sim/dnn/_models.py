"""The digits models (a small CNN and an MLP), their training, and the checkpoint cache.

Training is seeded and single-threaded with deterministic algorithms, so a checkpoint is
the same on every CPU run; it is cached under ``cache_root()/dnn/`` and rebuilt when it is
missing or cannot be read (a corrupt or truncated file is retrained, never fatal).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

__all__ = ["ARCHS", "build_digits_model", "checkpoint_path", "device", "load_or_train",
           "train_digits_model", "accuracy"]

#: Architectures on the 8x8 digits.
ARCHS = ("digits_cnn", "digits_mlp")

#: Bumped whenever the architectures or the training recipe change (invalidates caches).
_RECIPE = "v1"


def device():
    """``cuda`` when available, else ``cpu`` (a torch.device)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build_digits_model(arch: str):
    """A fresh (untrained) digits model as an ``nn.Sequential`` with named layers.

    ``digits_cnn``: conv1 1->8, conv2 8->16, maxpool, conv3 16->16, conv4 16->32, maxpool,
    fc1 128->32, fc2 32->10 (3x3 convolutions, padding 1, ReLU): six weight layers.
    ``digits_mlp``: fc1 64->64, fc2 64->32, fc3 32->10.
    """
    from torch import nn

    if arch == "digits_cnn":
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("relu2", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),
            ("conv3", nn.Conv2d(16, 16, 3, padding=1)), ("relu3", nn.ReLU()),
            ("conv4", nn.Conv2d(16, 32, 3, padding=1)), ("relu4", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(128, 32)), ("relu5", nn.ReLU()),
            ("fc2", nn.Linear(32, 10)),
        ]))
    if arch == "digits_mlp":
        return nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(64, 64)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(64, 32)), ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(32, 10)),
        ]))
    raise ValueError(f"arch must be one of {', '.join(ARCHS)}, not {arch!r}")


def _key(arch: str, seed: int, epochs: int, split_seed: int) -> str:
    text = json.dumps({"arch": arch, "seed": seed, "epochs": epochs, "split": split_seed,
                       "recipe": _RECIPE}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def checkpoint_path(arch: str, seed: int, epochs: int = 40, split_seed: int = 0,
                    cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the checkpoint of ``(arch, seed, epochs, split)`` is cached."""
    if cache_dir is None:
        from bitsmith._output import cache_root

        cache_dir = cache_root() / "dnn"
    return Path(cache_dir) / f"{arch}-s{seed}-{_key(arch, seed, epochs, split_seed)}.pt"


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of a float model on ``(x, y)`` (fraction)."""
    import torch

    model.eval()
    dev = next(model.parameters()).device
    with torch.no_grad():
        pred = model(torch.as_tensor(x, device=dev)).argmax(1).cpu().numpy()
    return float(np.mean(pred == y))


def train_digits_model(arch: str, data, seed: int = 0, epochs: int = 40):
    """Train a digits model with Adam (lr 3e-3, batch 64) for ``epochs`` on ``data.x_train``.

    Deterministic for a seed: the torch generator is local, the algorithms deterministic,
    one intra-op thread during training (restored after). Runs on CPU (seconds).
    """
    import torch

    torch.manual_seed(int(seed))  # parameter initialization
    return _train_module(build_digits_model(arch), data, seed, epochs)


def _train_module(model, data, seed: int, epochs: int):
    import torch

    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        g = torch.Generator().manual_seed(int(seed))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        x = torch.as_tensor(data.x_train)
        y = torch.as_tensor(data.y_train)
        loss_fn = torch.nn.CrossEntropyLoss()
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(len(y), generator=g)
            for i in range(0, len(y), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss_fn(model(x[idx]), y[idx]).backward()
                opt.step()
        model.eval()
        return model
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def load_or_train(arch: str, data, seed: int = 0, epochs: int = 40, split_seed: int = 0,
                  cache_dir=None, log=None):
    """The trained model from the cache, or trained now (and cached) if the checkpoint is
    missing or unreadable.

    Returns
    -------
    model : torch.nn.Module
        In eval mode, on CPU.
    info : dict
        ``path``, ``trained`` (True when trained in this call) and ``reason``.
    """
    import torch

    path = checkpoint_path(arch, seed, epochs, split_seed, cache_dir)
    reason = "cached"
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model = build_digits_model(arch)
            model.load_state_dict(state)
            model.eval()
            return model, {"path": str(path), "trained": False, "reason": reason}
        except Exception as e:  # corrupt, truncated or foreign file: rebuild it
            reason = f"checkpoint {path} unreadable ({type(e).__name__}); retrained"
    else:
        reason = "no checkpoint; trained"
    if log is not None:
        log(f"{arch} seed {seed}: {reason}")
    model = train_digits_model(arch, data, seed, epochs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(path)  # atomic: a concurrent reader never sees half a file
    return model, {"path": str(path), "trained": True, "reason": reason}
