"""Configuration loading: YAML -> schema validation with defaults -> plain validated data.

Every config goes through :func:`load_config`, which reads the YAML, checks it against the
schema registered for its ``kind`` and fills defaults; the flows then build their frozen
domain objects from the validated mapping. Errors name the file, the key path, the bad
value and what is allowed::

    configs/fir/bad.yaml: fir.coef_bits.max: must be an integer between 2 and 32, not 40

Schemas are declared with :class:`Field` and :class:`Section` (no import-time defaults are
computed from the environment).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "REQUIRED",
    "ConfigError",
    "Field",
    "Section",
    "ListOf",
    "load_yaml",
    "validate",
    "load_config",
    "register_schema",
    "SCHEMAS",
]


class ConfigError(ValueError):
    """A configuration file is malformed or breaks its schema.

    Parameters
    ----------
    message : str
        What must hold, and what was given.
    file : str or Path, optional
        The configuration file.
    key_path : str, optional
        Dotted path of the offending key (``fir.bands[1].edge``).
    """

    def __init__(self, message: str, *, file: str | Path | None = None, key_path: str = ""):
        self.message = message
        self.file = str(file) if file is not None else None
        self.key_path = key_path
        prefix = ""
        if self.file:
            prefix += f"{self.file}: "
        if key_path:
            prefix += f"{key_path}: "
        super().__init__(prefix + message)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks a field that has no default.
REQUIRED: Any = _Required()


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Field:
    """One scalar (or free-form) entry of a schema.

    Parameters
    ----------
    type : type or tuple of types
        Accepted Python type(s) after YAML parsing (``int`` does not accept ``bool``;
        ``float`` accepts ``int``).
    default :
        Value used when the key is absent; :data:`REQUIRED` if it must be given.
    choices : sequence, optional
        Allowed values.
    min, max : float, optional
        Inclusive numeric range.
    doc : str
        What the field means, with its unit.
    check : callable, optional
        Extra check ``value -> error message or None``.
    nullable : bool
        Whether ``null`` is accepted.
    """

    type: type | tuple[type, ...] = object
    default: Any = REQUIRED
    choices: Sequence[Any] | None = None
    min: float | None = None
    max: float | None = None
    doc: str = ""
    check: Callable[[Any], str | None] | None = None
    nullable: bool = False

    def _describe(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        names = {int: "an integer", float: "a number", str: "a string", bool: "a boolean",
                 list: "a list", dict: "a mapping"}
        what = " or ".join(names.get(t, t.__name__) for t in types)
        if self.choices is not None:
            return "one of " + ", ".join(_fmt(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            return f"{what} between {self.min:g} and {self.max:g}"
        if self.min is not None:
            return f"{what} >= {self.min:g}"
        if self.max is not None:
            return f"{what} <= {self.max:g}"
        return what

    def validate(self, value: Any, file: str | None, path: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"must be {self._describe()}, not null", file=file, key_path=path)
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        ok = False
        for t in types:
            if t is object:
                ok = True
            elif t is int:
                ok = ok or (isinstance(value, int) and not isinstance(value, bool))
            elif t is float:
                ok = ok or (isinstance(value, (int, float)) and not isinstance(value, bool))
            else:
                ok = ok or isinstance(value, t)
        if not ok:
            raise ConfigError(
                f"must be {self._describe()}, not {_fmt(value)}", file=file, key_path=path
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                f"must be a finite number, not {value}", file=file, key_path=path
            )
        if self.choices is not None and value not in self.choices:
            raise ConfigError(
                f"must be {self._describe()}, not {_fmt(value)}", file=file, key_path=path
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max
            ):
                raise ConfigError(
                    f"must be {self._describe()}, not {_fmt(value)}", file=file, key_path=path
                )
        if self.check is not None:
            msg = self.check(value)
            if msg:
                raise ConfigError(msg, file=file, key_path=path)
        return value


@dataclass(frozen=True)
class ListOf:
    """A list whose items all follow one schema (a :class:`Field` or :class:`Section`)."""

    item: Field | Section
    default: Any = REQUIRED
    min_len: int = 0
    max_len: int | None = None
    doc: str = ""
    nullable: bool = False

    def validate(self, value: Any, file: str | None, path: str) -> Any:
        if value is None and self.nullable:
            return None
        if not isinstance(value, list):
            raise ConfigError(f"must be a list, not {_fmt(value)}", file=file, key_path=path)
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            hi = "" if self.max_len is None else f" and at most {self.max_len}"
            raise ConfigError(
                f"must have at least {self.min_len}{hi} items, not {len(value)}",
                file=file, key_path=path,
            )
        return [self.item.validate(v, file, f"{path}[{i}]") for i, v in enumerate(value)]


@dataclass(frozen=True)
class Section:
    """A mapping with known keys; unknown keys are errors (they are usually typos)."""

    fields: Mapping[str, Field | Section | ListOf] = field(default_factory=dict)
    default: Any = REQUIRED
    doc: str = ""
    nullable: bool = False

    def validate(self, value: Any, file: str | None, path: str) -> Any:
        if value is None and self.nullable:
            return None
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"must be a mapping, not {_fmt(value)}", file=file, key_path=path)
        unknown = sorted(set(value) - set(self.fields), key=str)
        if unknown:
            where = f"{path}.{unknown[0]}" if path else str(unknown[0])
            raise ConfigError(
                f"unknown key {_fmt(unknown[0])}; allowed keys here: "
                + ", ".join(sorted(self.fields)),
                file=file, key_path=where,
            )
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            sub = f"{path}.{name}" if path else name
            if name in value:
                out[name] = spec.validate(value[name], file, sub)
            elif spec.default is REQUIRED:
                raise ConfigError(
                    f"required key {_fmt(name)} is missing", file=file, key_path=sub
                )
            elif isinstance(spec, Section) and spec.default is not None:
                out[name] = spec.validate({}, file, sub)
            else:
                out[name] = spec.default
        return out


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, turning parse errors into :class:`ConfigError` with line numbers."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=p) from None
    except OSError as e:
        raise ConfigError(f"cannot read file ({e.strerror})", file=p) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"malformed YAML: {where}{problem}", file=p) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {type(data).__name__}", file=p
        )
    return data


def validate(data: Mapping, schema: Section, file: str | Path | None = None) -> dict:
    """Validate ``data`` against ``schema``, filling defaults."""
    return schema.validate(dict(data), str(file) if file is not None else None, "")


#: kind -> schema of the whole file (registered by each flow).
SCHEMAS: dict[str, Section] = {}


def register_schema(kind: str, schema: Section) -> None:
    """Register the schema of configs whose top-level ``kind`` is ``kind``."""
    SCHEMAS[kind] = schema


def load_config(path: str | Path) -> tuple[str, dict]:
    """Load a config file: returns its ``kind`` and the validated mapping (defaults filled)."""
    from . import flows  # noqa: F401  (registers the schemas)

    data = load_yaml(path)
    kind = data.get("kind")
    if kind not in SCHEMAS:
        allowed = ", ".join(sorted(SCHEMAS))
        if kind is None:
            raise ConfigError(f"required key 'kind' is missing; allowed kinds: {allowed}",
                              file=path, key_path="kind")
        raise ConfigError(f"must be one of {allowed}, not {_fmt(kind)}", file=path,
                          key_path="kind")
    return kind, validate(data, SCHEMAS[kind], path)
