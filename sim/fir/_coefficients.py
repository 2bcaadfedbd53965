"""User FIR coefficients from a file: Xilinx ``.coe`` (radix 10 or 16), ``.npy``, or text
with one number per line.

Every failure is a :class:`ValueError` whose message starts ``<file>:<line>:`` (or names
the item), so a config error points at the bad number.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

__all__ = ["load_coefficients", "check_coefficients"]


def check_coefficients(values, where: str = "coefficients") -> np.ndarray:
    """float64 taps from ``values``; non-finite, empty or all-zero input is a ValueError
    naming the item (``where[k]``)."""
    out = []
    for k, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{where}[{k}] is {v!r}, not a number")
        if not math.isfinite(float(v)):
            raise ValueError(f"{where}[{k}] is {float(v)}: coefficients must be finite")
        out.append(float(v))
    if not out:
        raise ValueError(f"{where} is empty: a FIR needs at least one coefficient")
    h = np.array(out, dtype=np.float64)
    if not np.any(h):
        raise ValueError(f"{where}: every coefficient is zero")
    return h


def _finish(values: list[tuple[float, int]], name: str) -> np.ndarray:
    for v, line in values:
        if not math.isfinite(v):
            raise ValueError(f"{name}:{line}: {v} is not finite: coefficients must be finite")
    if not values:
        raise ValueError(f"{name}: no coefficients in the file")
    h = np.array([v for v, _ in values], dtype=np.float64)
    if not np.any(h):
        raise ValueError(f"{name}: every coefficient is zero")
    return h


def _text(path: Path) -> np.ndarray:
    values = []
    for i, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            values.append((float(line), i))
        except ValueError:
            raise ValueError(f"{path}:{i}: {line!r} is not a number (one coefficient per "
                             f"line, '#' comments)") from None
    return _finish(values, str(path))


def _hex(token: str) -> int:
    """A radix-16 token: '-' prefixed magnitude, or two's complement at 4 bits per digit
    (Xilinx writes every coefficient zero-padded to the coefficient width)."""
    if token.startswith("-"):
        return -int(token[1:], 16)
    v = int(token, 16)
    bits = 4 * len(token)
    return v - (1 << bits) if v >> (bits - 1) else v


def _coe(path: Path) -> np.ndarray:
    """Xilinx FIR Compiler ``.coe``: ``radix = 10|16;`` then ``coefdata = a, b, ...;``
    (';' starts a comment outside those statements)."""
    radix = None
    values: list[tuple[float, int]] = []
    in_data = done = False
    for i, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or (line.startswith(";") and not in_data):
            continue
        if not in_data:
            m = re.fullmatch(r"(?i)radix\s*=\s*(\w+)\s*;?\s*(;.*)?", line)
            if m:
                if m.group(1) not in ("10", "16"):
                    raise ValueError(f"{path}:{i}: radix {m.group(1)} is not supported "
                                     f"(10 or 16)")
                radix = int(m.group(1))
                continue
            m = re.fullmatch(r"(?i)coefdata\s*=\s*(.*)", line)
            if not m:
                raise ValueError(f"{path}:{i}: expected 'radix = 10|16;' or 'coefdata = "
                                 f"...', not {line!r}")
            if radix is None:
                raise ValueError(f"{path}:{i}: coefdata before 'radix = 10|16;'")
            in_data, line = True, m.group(1)
        if done:
            raise ValueError(f"{path}:{i}: {line!r} after the ';' that ends coefdata")
        if ";" in line:
            line, done = line.split(";", 1)[0], True
        for token in line.replace(",", " ").split():
            try:
                values.append((float(_hex(token) if radix == 16 else int(token)), i))
            except ValueError:
                raise ValueError(f"{path}:{i}: {token!r} is not a radix-{radix} "
                                 f"integer") from None
        if done:
            in_data = False
    if radix is None:
        raise ValueError(f"{path}: no 'radix = 10|16;' line (not a .coe file)")
    if not values:
        raise ValueError(f"{path}: no coefdata")
    if not done:
        raise ValueError(f"{path}: coefdata does not end with ';'")
    return _finish(values, str(path))


def _npy(path: Path) -> np.ndarray:
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npy array ({' '.join(str(e).split())})"
                         ) from None
    if a.ndim != 1 or a.dtype.kind not in "iuf":
        raise ValueError(f"{path}: a .npy of coefficients must be a 1-D real array, not "
                         f"{a.dtype} of shape {a.shape}")
    bad = np.flatnonzero(~np.isfinite(a.astype(np.float64)))
    if bad.size:
        raise ValueError(f"{path}: item {int(bad[0])} is {a[bad[0]]}: coefficients must be "
                         f"finite")
    return _finish([(float(v), k) for k, v in enumerate(a)], str(path))


def load_coefficients(path) -> np.ndarray:
    """Float taps from ``path``: ``.coe`` (Xilinx, integers), ``.npy`` (1-D real array), or
    any other name as text with one number per line (``#`` comments).

    Raises
    ------
    ValueError
        Unreadable file, a token that is not a number, NaN/inf, no coefficients, or all
        zero; the message names the file and the line (``.npy``: the item).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: no such coefficient file")
    try:
        if p.suffix.lower() == ".coe":
            return _coe(p)
        if p.suffix.lower() == ".npy":
            return _npy(p)
        return _text(p)
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a text file") from None
