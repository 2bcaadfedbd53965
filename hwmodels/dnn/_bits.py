"""Per-layer bit configurations: ``"w4a8"``, ``(4, 8)``, a mapping or a JSON file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["BITS_RE", "BitsError", "bit_pair", "parse_bits"]

#: A uniform bit pair as text: weight then activation bits, ``w4a8``.
BITS_RE = re.compile(r"^w(\d+)a(\d+)$")


def bit_pair(v: Any) -> tuple[int, int] | None:
    """``(bw, ba)`` of ``"w4a8"`` or ``[4, 8]``; None when ``v`` is neither (no stripping)."""
    if isinstance(v, str):
        m = BITS_RE.match(v)
        return (int(m.group(1)), int(m.group(2))) if m else None
    if (isinstance(v, Sequence) and len(v) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
        return int(v[0]), int(v[1])
    return None


class BitsError(ValueError):
    """A bit configuration that cannot be read.

    Attributes
    ----------
    key : str
        Key path of the offending entry (``bits.layer1.0.conv1``).
    file : Path or None
        The JSON file it came from, if any.
    """

    def __init__(self, message: str, key: str = "bits", file: Path | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.file = file


def _pair(v: Any, key: str, file: Path | None) -> tuple[int, int]:
    pair = bit_pair(v.strip() if isinstance(v, str) else v)
    if pair is not None:
        return pair
    raise BitsError(f"bits must look like 'w8a8' or [8, 8] (weight then activation bits), "
                    f"not {v!r}", key, file)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs):
    """A JSON object hook that rejects a key given twice (JSON would keep the last)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(f"duplicate key {k!r} in a JSON object")
        out[k] = v
    return out


def parse_bits(spec: Any, layer_names: Sequence[str], key: str = "bits",
               first_last: int | None = None) -> dict[str, tuple[int, int]]:
    """Per-layer ``(bw, ba)`` from a uniform pair, a mapping or a JSON file.

    Parameters
    ----------
    spec : str, pair or mapping
        ``"w4a8"`` or ``(4, 8)`` for every layer; a mapping layer -> ``"w4a8"`` or
        ``[4, 8]``, where the key ``"default"`` gives the layers not named (without it
        every layer must be named); or the path of a JSON file holding such a mapping
        (optionally under a top-level ``"bits"`` key).
    layer_names : sequence of str
        The network's layers.
    key : str
        Key path of ``spec`` for error messages (``bits``, ``--bits``).
    first_last : int, optional
        HAWQ-V3 convention: the first and last layers run at ``first_last`` bits for
        weights and activations, unless a mapping names them explicitly (bits).

    Returns
    -------
    dict of str to (int, int)
        Layer -> (weight bits, activation bits).

    Raises
    ------
    BitsError
        With the key path and the JSON file of the bad entry.
    """
    names = list(layer_names)
    src = None
    if isinstance(spec, (str, Path)) and not BITS_RE.match(str(spec).strip()):
        p = Path(spec)
        if p.suffix.lower() != ".json" and not p.is_file():
            raise BitsError(f"{key} must be like 'w8a8' or a JSON file of per-layer bits, "
                            f"not {str(spec)!r}", key)
        try:
            spec = json.loads(p.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
        except FileNotFoundError:
            raise BitsError("bits JSON file not found", key, p) from None
        except IsADirectoryError:
            raise BitsError("is a directory, not a bits JSON file", key, p) from None
        except UnicodeDecodeError:
            raise BitsError("must be a UTF-8 JSON file", key, p) from None
        except _DuplicateKey as e:
            raise BitsError(str(e), key, p) from None
        except json.JSONDecodeError as e:
            raise BitsError(f"malformed JSON: line {e.lineno}, column {e.colno}: {e.msg}",
                            key, p) from None
        src = p
        if isinstance(spec, dict) and set(spec) == {"bits"}:
            spec = spec["bits"]
        if not isinstance(spec, dict):
            raise BitsError(f"must be a JSON object of layer -> 'w4a8', not "
                            f"{type(spec).__name__}", key, p)
    explicit: set[str] = set()
    if isinstance(spec, Mapping):
        out: dict[str, tuple[int, int]] = {}
        default = None
        for name, b in spec.items():
            where = f"{key}.{name}"
            if name == "default":
                default = _pair(b, where, src)
                continue
            if name not in names:
                shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                raise BitsError(f"must name a layer of the model ({shown}) or 'default', "
                                f"not {name!r}", where, src)
            out[name] = _pair(b, where, src)
        explicit = set(out)
        missing = [n for n in names if n not in out]
        if missing and default is None:
            raise BitsError(f"per-layer bits must cover every layer or give a 'default'; "
                            f"missing {missing[0]!r} ({len(missing)} missing)", key, src)
        for n in missing:
            out[n] = default
        out = {n: out[n] for n in names}
    else:
        out = dict.fromkeys(names, _pair(spec, key, src))
    if first_last is not None and names:
        for n in {names[0], names[-1]} - explicit:
            out[n] = (int(first_last), int(first_last))
    return out
