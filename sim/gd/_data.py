"""The convex problems: data draws, loss, gradient and the exact optimum of each draw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._spec import Objective

__all__ = ["GdData", "DATASETS", "make_data", "loss", "gradient"]

#: dataset name -> what it is
DATASETS = {
    "synthetic": "Gaussian features with column scales giving the stated condition number; "
                 "least squares: y = A w + noise; logistic: y ~ Bernoulli(sigmoid(A w))",
    "breast_cancer": "scikit-learn's bundled Wisconsin breast-cancer set (569 x 30, no "
                     "download), standardized, plus an intercept column; each draw is a "
                     "random subsample of n_samples rows (logistic only)",
}


@dataclass(frozen=True, eq=False)
class GdData:
    """M independent data draws of one problem, with each draw's exact optimum.

    Attributes
    ----------
    objective : Objective
    A : numpy.ndarray of float64, (M, n, d)
        Features.
    y : numpy.ndarray of float64, (M, n)
        Targets (least squares) or labels in {-1, +1} (logistic).
    reg : float
        L2 regularization of the logistic loss (0 for least squares).
    H : numpy.ndarray, (M, d, d)
        A^T A / n (the least-squares Hessian).
    c : numpy.ndarray, (M, d)
        A^T y / n.
    w_star : numpy.ndarray, (M, d)
        Exact minimizer of each draw.
    f_star, f0 : numpy.ndarray, (M,)
        Optimal loss and loss at the start w_0 = 0.
    lipschitz : numpy.ndarray, (M,)
        Lipschitz constant L of the gradient.
    """

    objective: Objective
    A: np.ndarray
    y: np.ndarray
    reg: float
    H: np.ndarray
    c: np.ndarray
    w_star: np.ndarray
    f_star: np.ndarray
    f0: np.ndarray
    lipschitz: np.ndarray

    @property
    def n_draws(self) -> int:
        return self.A.shape[0]

    @property
    def n_features(self) -> int:
        return self.A.shape[2]


def _sigmoid(z):
    from scipy.special import expit

    return expit(z)


def _scores(A, W):
    """A_m w for iterates W (c, M, d) on draws A (M, n, d): (c, M, n).

    One (c, d) @ (d, n) product per draw: numpy's batched matmul is fast on a few large
    matrices, slow on many vector-matrix products.
    """
    return np.swapaxes(np.matmul(np.swapaxes(W, 0, 1), np.swapaxes(A, 1, 2)), 0, 1)


def loss(objective: Objective, A, y, reg, W) -> np.ndarray:
    """Loss of iterates W (c, M, d) or (M, d) on draws A (M, n, d), y (M, n): (c, M) or (M,)."""
    if W.ndim == 2:
        return loss(objective, A, y, reg, W[None])[0]
    Z = _scores(A, W)  # (c, M, n)
    if objective is Objective.LEAST_SQUARES:
        return 0.5 * np.mean((Z - y) ** 2, axis=-1)
    return (np.mean(np.logaddexp(0.0, -y * Z), axis=-1)
            + 0.5 * reg * np.sum(W * W, axis=-1))


def gradient(data: GdData, W: np.ndarray) -> np.ndarray:
    """Gradient at iterates W (n, M, d): (n, M, d)."""
    if data.objective is Objective.LEAST_SQUARES:
        # H is symmetric: (w H)_j = (H w)_j
        return np.swapaxes(np.matmul(np.swapaxes(W, 0, 1), data.H), 0, 1) - data.c
    Z = _scores(data.A, W)  # (n, M, n_s)
    r = -data.y * _sigmoid(-data.y * Z) / data.A.shape[1]
    return np.swapaxes(np.matmul(np.swapaxes(r, 0, 1), data.A), 0, 1) + data.reg * W


def _logistic_optimum(A, y, reg, tol=1e-13, max_iter=100):
    """Newton's method on one draw (the loss is strongly convex for reg > 0)."""
    n, d = A.shape
    w = np.zeros(d)
    for _ in range(max_iter):
        z = A @ w
        s = _sigmoid(-y * z)
        g = -(A.T @ (y * s)) / n + reg * w
        if np.max(np.abs(g)) < tol:
            break
        h = s * (1 - s)
        H = (A.T * h) @ A / n + reg * np.eye(d)
        w = w - np.linalg.solve(H, g)
    return w


def _synthetic_features(rng, n, d, condition):
    # column scales log-spaced so that the covariance's condition number is `condition`
    scales = condition ** (-0.5 * np.linspace(0.0, 1.0, d))
    return rng.standard_normal((n, d)) * scales


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    X, t = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.hstack([X, np.ones((len(X), 1))]), np.where(t == 1, 1.0, -1.0)


def make_data(objective: Objective, dataset: str, n_draws: int, n_samples: int,
              n_features: int, condition: float, noise: float, reg: float,
              rng: np.random.Generator) -> GdData:
    """Draw M data sets and solve each exactly.

    Parameters
    ----------
    objective : Objective
    dataset : {"synthetic", "breast_cancer"}
        See :data:`DATASETS`.
    n_draws : int
        Data draws M.
    n_samples : int
        Samples per draw n.
    n_features : int
        Coordinates d (synthetic; breast_cancer has 31 with the intercept).
    condition : float
        Condition number of the synthetic feature covariance (>= 1).
    noise : float
        Standard deviation of the least-squares target noise.
    reg : float
        L2 regularization of the logistic loss (> 0 makes its optimum unique).
    rng : numpy.random.Generator
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {dataset!r}")
    if dataset == "breast_cancer" and objective is not Objective.LOGISTIC:
        raise ValueError("dataset breast_cancer is a classification set: it needs objective "
                         "logistic")
    As, ys = [], []
    if dataset == "breast_cancer":
        X, t = _breast_cancer()
        if not 2 <= n_samples <= len(X):
            raise ValueError(f"n_samples must be between 2 and {len(X)} for breast_cancer, "
                             f"not {n_samples}")
        for _ in range(n_draws):
            rows = np.sort(rng.choice(len(X), size=n_samples, replace=False))
            As.append(X[rows])
            ys.append(t[rows])
    else:
        for _ in range(n_draws):
            A = _synthetic_features(rng, n_samples, n_features, condition)
            w_true = rng.standard_normal(n_features)
            if objective is Objective.LEAST_SQUARES:
                y = A @ w_true + noise * rng.standard_normal(n_samples)
            else:
                w_true *= 3.0 / np.sqrt(np.mean((A @ w_true) ** 2))
                y = np.where(rng.random(n_samples) < _sigmoid(A @ w_true), 1.0, -1.0)
            As.append(A)
            ys.append(y)
    A = np.stack(As)
    y = np.stack(ys)
    n = A.shape[1]
    H = np.swapaxes(A, 1, 2) @ A / n
    c = np.einsum("mnd,mn->md", A, y) / n
    if objective is Objective.LEAST_SQUARES:
        reg = 0.0
        w_star = np.linalg.solve(H, c[..., None])[..., 0]
        lip = np.linalg.eigvalsh(H)[:, -1]
    else:
        w_star = np.stack([_logistic_optimum(a, t, reg) for a, t in zip(A, y, strict=True)])
        lip = np.linalg.eigvalsh(H)[:, -1] / 4.0 + reg
    f_star = loss(objective, A, y, reg, w_star)
    f0 = loss(objective, A, y, reg, np.zeros_like(w_star))
    return GdData(objective, A, y, float(reg), H, c, w_star, f_star, f0, lip)
