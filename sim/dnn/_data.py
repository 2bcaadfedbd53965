"""scikit-learn's bundled digits set (1797 8x8 images, no download), split reproducibly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DigitsData", "load_digits_split"]


@dataclass(frozen=True)
class DigitsData:
    """Train / calibration / test splits of the digits set.

    Images are float32 ``(n, 1, 8, 8)`` in [0, 1] (pixel / 16); labels int64 ``(n,)``.
    The calibration split is what post-training quantization and the sensitivities see;
    accuracies are reported on the test split, which nothing is fitted on.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_calib: np.ndarray
    y_calib: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(split_seed: int = 0, n_calib: int = 400, n_test: int = 500) -> DigitsData:
    """The digits set split into train / calibration / test by a seeded permutation.

    Parameters
    ----------
    split_seed : int
        Seed of the permutation (``numpy.random.default_rng``).
    n_calib, n_test : int
        Images in the calibration and test splits (the rest trains).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    if n_calib + n_test >= len(y):
        raise ValueError(f"n_calib + n_test must leave training images (< {len(y)}), "
                         f"not {n_calib + n_test}")
    p = np.random.default_rng(split_seed).permutation(len(y))
    te, ca, tr = p[:n_test], p[n_test:n_test + n_calib], p[n_test + n_calib:]
    return DigitsData(x[tr], y[tr], x[ca], y[ca], x[te], y[te])
