"""Configuration loading: YAML -> pydantic model (validated, defaults filled, frozen).

Each flow declares one :class:`ConfigModel` subclass for its ``kind`` (and one per nested
section); this module holds only the machinery and knows no flow (the registry of kinds
lives in :mod:`bitsmith.flows`). Errors name the file, the key path, what must hold and
the value given, one line per error, every error of a file at once::

    configs/fir/bad.yaml: allocation.max_bits: must be an integer between 2 and 32, not 40

YAML is read as UTF-8 text with a loader that rejects duplicate keys; relative paths
inside a config (:data:`ConfigPath`) are resolved against the config file's folder.
"""

from __future__ import annotations

import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo
from pydantic.fields import FieldInfo

__all__ = [
    "INT64_MAX",
    "ConfigError",
    "ConfigModel",
    "ConfigPath",
    "resolve_path",
    "check",
    "describe_field",
    "load_yaml",
    "read_text_file",
    "validate",
]

#: Largest integer any config field takes (int64, what the numeric core computes in).
INT64_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A configuration file (or a file or argument it names) is malformed or breaks its schema.

    Parameters
    ----------
    message : str
        What must hold, and what was given.
    file : str or Path, optional
        The configuration file.
    key_path : str, optional
        Dotted path of the offending key (``filter.bands[1].edge``).
    more : sequence of ConfigError, optional
        Further errors of the same file (``lines`` lists them all, one line each).
    """

    def __init__(self, message: str, *, file: str | Path | None = None, key_path: str = "",
                 more: tuple[ConfigError, ...] = ()):
        self.message = message
        self.file = str(file) if file is not None else None
        self.key_path = key_path
        self.more = tuple(more)
        prefix = ""
        if self.file:
            prefix += f"{self.file}: "
        if key_path:
            prefix += f"{key_path}: "
        super().__init__(prefix + message)

    @property
    def lines(self) -> list[str]:
        """Every error as one line (this one first)."""
        return [_one_line(str(self))] + [_one_line(str(e)) for e in self.more]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class ConfigModel(BaseModel):
    """Base of every config section: frozen, unknown keys rejected, YAML types taken as they
    are (an integer field does not accept ``"5"`` or ``true``; a number field accepts
    integers)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def resolve_path(value: str, info: ValidationInfo) -> str:
    """``value`` as a path, taken from the config file's folder when relative (a pydantic
    after-validator: the folder comes from the validation context's ``base_dir``)."""
    base = (info.context or {}).get("base_dir") if info is not None else None
    p = Path(value).expanduser()
    if base is not None and not p.is_absolute():
        p = Path(base) / p
    return os.path.normpath(p)


#: A file path in a config: relative paths are taken from the config file's folder.
ConfigPath = Annotated[str, AfterValidator(resolve_path)]


def check(condition: bool, key: str, message: str) -> None:
    """Raise a validation error for ``key`` (a field of the model being validated) unless
    ``condition`` holds; for cross-field checks in ``model_validator(mode="after")``."""
    if not condition:
        raise ValueError(f"@{key}@{message}")


# -- error messages -------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if len(str(value)) > 60 else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _strip_optional(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            inner, _ = _strip_optional(args[0])
            return inner, True
    if origin is Annotated:
        return _strip_optional(typing.get_args(tp)[0])
    return tp, False


def _bounds(info: FieldInfo | None) -> tuple[Any, Any]:
    lo = hi = None
    for m in (info.metadata if info is not None else ()):
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
        if getattr(m, "gt", None) is not None:
            lo = m.gt
        if getattr(m, "lt", None) is not None:
            hi = m.lt
    return lo, hi


def _num(v) -> str:
    if isinstance(v, int) and abs(v) >= 2**31:
        return "2**63 - 1" if v == INT64_MAX else f"{v:.3g}" if abs(v) > 1e15 else str(v)
    return f"{v:g}"


def describe_field(tp, info: FieldInfo | None = None) -> str:
    """What a value of type ``tp`` (with ``info``'s bounds) must be, in words."""
    tp, nullable = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        what = "one of " + ", ".join(_fmt(a) for a in typing.get_args(tp))
    elif origin in (list, tuple):
        (item,) = typing.get_args(tp)[:1] or (Any,)
        what = f"a list of {describe_field(item)}"
        lo, hi = _list_len(info)
        if lo or hi:
            what += f" ({lo or 0} to {hi} items)" if hi else f" (at least {lo} items)"
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        what = "a mapping"
    else:
        names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
        what = names.get(tp, "a value")
        lo, hi = _bounds(info)
        if lo is not None and hi is not None:
            what += f" between {_num(lo)} and {_num(hi)}"
        elif lo is not None:
            what += f" >= {_num(lo)}"
        elif hi is not None:
            what += f" <= {_num(hi)}"
    return what + (" or null" if nullable else "")


def _list_len(info: FieldInfo | None) -> tuple[int | None, int | None]:
    lo = hi = None
    for m in (info.metadata if info is not None else ()):
        lo = getattr(m, "min_length", None) or lo
        hi = getattr(m, "max_length", None) or hi
    return lo, hi


def _walk(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel] | None, Any, FieldInfo | None]:
    """The model owning the last field of ``loc``, that field's type and its FieldInfo."""
    owner: Any = model
    tp: Any = model
    info = None
    for part in loc:
        base, _ = _strip_optional(tp)
        if isinstance(base, type) and issubclass(base, BaseModel) and isinstance(part, str):
            owner = base
            info = base.model_fields.get(part)
            if info is None:
                return owner, None, None
            tp = info.annotation
        elif isinstance(part, int) and typing.get_origin(base) in (list, tuple):
            tp = (typing.get_args(base) or (Any,))[0]
            info = None
        else:
            return owner, None, None
    return owner, tp, info


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(model: type[BaseModel], err: dict) -> tuple[tuple, str]:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal["))))
    kind = err["type"]
    given = err.get("input")
    if kind == "value_error":
        text = str(err.get("ctx", {}).get("error", err["msg"]))
        if text.startswith("@") and text.count("@") >= 2:
            _, key, text = text.split("@", 2)
            loc = (*loc, *key.split("."))
        return loc, text
    if kind == "missing":
        return loc, f"required key {_fmt(loc[-1])} is missing"
    owner, tp, info = _walk(model, loc)
    if kind == "extra_forbidden":
        allowed = ", ".join(sorted(owner.model_fields)) if owner is not None else "?"
        return loc, f"unknown key {_fmt(loc[-1])}; allowed keys here: {allowed}"
    if kind == "finite_number":
        return loc, f"must be a finite number, not {_fmt(given)}"
    if kind in ("too_short", "too_long"):
        lo, hi = _list_len(info)
        n = err.get("ctx", {}).get("actual_length", len(given) if hasattr(given, "__len__") else "?")
        span = f"at least {lo or 0}" + (f" and at most {hi}" if hi else "")
        unit = "item" if (hi or lo) == 1 else "items"
        return loc, f"must have {span} {unit}, not {n}"
    if tp is None:
        return loc, f"{err['msg']}, not {_fmt(given)}"
    return loc, f"must be {describe_field(tp, info)}, not {_fmt(given)}"


def validate(model: type[ConfigModel], data: Any, file: str | Path | None = None,
             base_dir: str | Path | None = None) -> ConfigModel:
    """Validate ``data`` against ``model``; every error of the file at once as a ConfigError.

    Parameters
    ----------
    model : type of ConfigModel
    data : mapping
        The parsed YAML.
    file : path, optional
        The config file (for messages).
    base_dir : path, optional
        Folder that relative :data:`ConfigPath` values are taken from (default: the config
        file's folder).
    """
    if base_dir is None and file is not None:
        base_dir = Path(file).resolve().parent
    try:
        return model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as e:
        errors = []
        seen = set()
        for err in e.errors(include_url=False):
            loc, text = _message(model, err)
            key = _key_path(loc)
            if (key, text) in seen:
                continue
            seen.add((key, text))
            errors.append(ConfigError(text, file=file, key_path=key))
        first, *rest = errors
        raise ConfigError(first.message, file=file, key_path=first.key_path,
                          more=tuple(rest)) from None


# -- YAML -----------------------------------------------------------------------------------

class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a scalar, not {type(key).__name__}",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line "
                f"{seen[key].start_mark.line + 1})", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)


def read_text_file(path: str | Path, what: str = "file") -> str:
    """Read a UTF-8 text file, refusing binary and UTF-16/32 files with a ConfigError."""
    p = Path(path)
    try:
        if p.is_dir():
            raise ConfigError(f"is a directory, not a {what}", file=p)
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=p) from None
    except ConfigError:
        raise
    except OSError as e:
        raise ConfigError(f"cannot read {what} ({e.strerror})", file=p) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and b"\x00" in data[:4]
                                                      and data[:4].count(b"\x00") in (1, 2, 3)):
        enc = "UTF-16" if not data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00")) else "UTF-32"
        raise ConfigError(f"must be a UTF-8 text file, not {enc} (re-save it as UTF-8)",
                          file=p)
    if b"\x00" in data:
        raise ConfigError(f"must be a UTF-8 text {what}, not a binary file", file=p)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"must be UTF-8 text: byte {e.start} is not valid UTF-8", file=p) from None
    return text


def _check_ints(data: Any, file: Path, path: str = "") -> None:
    """No integer anywhere in a config may leave int64 (what the numeric core computes in)."""
    if isinstance(data, bool):
        return
    if isinstance(data, int) and not -INT64_MAX - 1 <= data <= INT64_MAX:
        raise ConfigError(f"integers must fit in 64 bits (at most 2**63 - 1), not {_fmt(data)}",
                          file=file, key_path=path)
    if isinstance(data, dict):
        for k, v in data.items():
            _check_ints(v, file, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_ints(v, file, f"{path}[{i}]")


def load_yaml(path: str | Path, mapping: bool = True) -> Any:
    """Read a YAML file (a mapping unless ``mapping=False``); parse errors, duplicate keys,
    non-UTF-8 files and integers beyond int64 become ConfigErrors with line numbers or key
    paths."""
    p = Path(path)
    text = read_text_file(p, "config file" if mapping else "YAML file")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"malformed YAML: {where}{problem}", file=p) from None
    _check_ints(data, p)
    if mapping and not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {type(data).__name__}", file=p
        )
    return data
