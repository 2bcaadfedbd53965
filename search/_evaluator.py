"""Batch evaluation for the search methods: counting, de-duplication, executors, history."""

from __future__ import annotations

import hashlib
import pickle
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np

from ._problem import Problem

#: Candidate batches are split into at most this many chunks for an executor.
MAX_CHUNKS = 16

#: Per worker process: the problems it has received, by token (a few, most recent last).
_WORKER_PROBLEMS: OrderedDict[str, Problem] = OrderedDict()
_WORKER_KEEP = 4


def _evaluate_chunk(token: str, X: np.ndarray):
    """Worker side: evaluate X with the problem received under ``token``; None if absent."""
    problem = _WORKER_PROBLEMS.get(token)
    return None if problem is None else problem.evaluate(X)


def _install_and_evaluate(token: str, payload: bytes, X: np.ndarray):
    """Worker side: keep the pickled problem under ``token``, then evaluate X."""
    if token not in _WORKER_PROBLEMS:
        _WORKER_PROBLEMS[token] = pickle.loads(payload)
        while len(_WORKER_PROBLEMS) > _WORKER_KEEP:
            _WORKER_PROBLEMS.popitem(last=False)
    return _WORKER_PROBLEMS[token].evaluate(X)


def _key(row: np.ndarray) -> bytes:
    return hashlib.blake2b(row.tobytes(), digest_size=16).digest()


class Evaluator:
    """Evaluate candidate batches of one problem and keep the books.

    Counts real evaluations (rows passed to ``problem.evaluate``) and infeasible ones,
    optionally de-duplicates repeated points with a cache, tracks the best feasible point,
    and records the history once per iteration.

    Parameters
    ----------
    problem : Problem
    executor : concurrent.futures.Executor, optional
        Batches are split into up to :data:`MAX_CHUNKS` contiguous chunks and
        ``problem.evaluate`` is mapped over them; results are re-assembled in order, so the
        outcome does not depend on the executor. A thread pool shares the problem; any
        other executor (a process pool) gets it pickled once, and each worker keeps it:
        chunks travel with a token only, and the pickled problem is sent again only to a
        worker that answers it has not received it yet.
    cache : bool
        Remember every evaluated point and never evaluate it twice.
    progress : callable, optional
        ``progress(done, total, best_error)`` called by :meth:`end_iteration`.
    """

    def __init__(
        self,
        problem: Problem,
        executor: Executor | None = None,
        cache: bool = True,
        progress: Callable | None = None,
    ):
        self.problem = problem
        self.executor = executor
        self.budgets = np.asarray(problem.budgets, dtype=np.int64)
        self.cache: dict[bytes, tuple[float, np.ndarray]] | None = {} if cache else None
        self.progress = progress
        self.n_evals = 0
        self.n_infeasible = 0
        self.best_error = np.inf
        self.best_x: np.ndarray | None = None
        self.best_cost: np.ndarray | None = None
        self._token = uuid.uuid4().hex  # names the problem on workers; no effect on results
        self._payload: bytes | None = None
        self._hist_iter: list[int] = []
        self._hist_evals: list[int] = []
        self._hist_best: list[float] = []

    def _raw(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nb = self.problem.n_budgets
        if self.executor is None or len(X) < 2:
            err, cost = self.problem.evaluate(X)
        else:
            parts = self._map_chunks(np.array_split(X, min(MAX_CHUNKS, len(X))))
            err = np.concatenate([np.asarray(p[0]) for p in parts])
            cost = np.concatenate([np.asarray(p[1]).reshape(-1, nb) for p in parts])
        err = np.asarray(err, dtype=np.float64).reshape(len(X))
        cost = np.asarray(cost, dtype=np.int64).reshape(len(X), nb)
        self.n_evals += len(X)
        feas = np.all(cost <= self.budgets, axis=1)
        self.n_infeasible += int(np.count_nonzero(~feas))
        if feas.any():
            cand = np.where(feas, err, np.inf)
            j = int(np.argmin(cand))
            if cand[j] < self.best_error:
                self.best_error = float(cand[j])
                self.best_x = X[j].copy()
                self.best_cost = cost[j].copy()
        return err, cost

    def _map_chunks(self, chunks: list[np.ndarray]) -> list:
        if isinstance(self.executor, ThreadPoolExecutor):
            return list(self.executor.map(self.problem.evaluate, chunks))
        tok = [self._token] * len(chunks)
        parts = list(self.executor.map(_evaluate_chunk, tok, chunks))
        miss = [i for i, p in enumerate(parts) if p is None]
        if miss:
            if self._payload is None:
                self._payload = pickle.dumps(self.problem, protocol=pickle.HIGHEST_PROTOCOL)
            again = self.executor.map(_install_and_evaluate, tok[: len(miss)],
                                      [self._payload] * len(miss), [chunks[i] for i in miss])
            for i, p in zip(miss, again, strict=True):
                parts[i] = p
        return parts

    def __call__(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Error (float64 (n,)) and cost (int64 (n, n_budgets)) of widths X (n, N)."""
        X = np.ascontiguousarray(X, dtype=np.int64)
        if self.cache is None:
            return self._raw(X)
        n, nb = len(X), self.problem.n_budgets
        err = np.empty(n)
        cost = np.empty((n, nb), dtype=np.int64)
        keys = [_key(r) for r in X]
        todo: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in self.cache and k not in todo:
                todo[k] = i
        if todo:
            rows = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
            e, c = self._raw(X[rows])
            for j, k in enumerate(todo):
                self.cache[k] = (float(e[j]), c[j])
        for i, k in enumerate(keys):
            err[i], cost[i] = self.cache[k]
        return err, cost

    def seen(self, X) -> np.ndarray:
        """Whether each row of widths X (n, N) is already cached, bool (n,).

        A row that repeats an earlier row of X also counts as seen; without a cache nothing
        is seen.
        """
        X = np.ascontiguousarray(X, dtype=np.int64)
        out = np.zeros(len(X), dtype=bool)
        if self.cache is None:
            return out
        batch: set[bytes] = set()
        for i, r in enumerate(X):
            k = _key(r)
            out[i] = k in self.cache or k in batch
            batch.add(k)
        return out

    def end_iteration(self, done: int, total: int) -> None:
        """Record the history row of an iteration and report progress."""
        self._hist_iter.append(done)
        self._hist_evals.append(self.n_evals)
        self._hist_best.append(self.best_error)
        if self.progress is not None:
            self.progress(done, total, self.best_error)

    def history(self) -> dict[str, np.ndarray]:
        """Per-iteration arrays: ``iteration``, ``n_evals`` (cumulative), ``best_error``.

        ``best_error`` is the best feasible error so far (inf before the first feasible
        point); plot it against ``iteration`` or ``n_evals``.
        """
        return {
            "iteration": np.asarray(self._hist_iter, dtype=np.int64),
            "n_evals": np.asarray(self._hist_evals, dtype=np.int64),
            "best_error": np.asarray(self._hist_best, dtype=np.float64),
        }
