"""Dataclass configs <-> YAML, with YAML *deltas* and dotted command-line overrides.

A config is a (possibly nested) dataclass. Files in ``configs/`` name only what
differs from the defaults, so ``load_config(TrainConfig, "configs/tiny.yaml",
["optim.lr=1e-3"])`` starts from ``TrainConfig()``, applies the file, then the
overrides. Unknown keys are errors (a typo must never be silently ignored).

Example:
    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Optim:
    ...     lr: float = 2e-4
    >>> @dataclass
    ... class Run:
    ...     steps: int = 100
    ...     optim: Optim = field(default_factory=Optim)
    >>> apply_overrides(Run(), ["optim.lr=0.001", "steps=5"])
    Run(steps=5, optim=Optim(lr=0.001))
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

__all__ = [
    "ConfigError",
    "to_dict",
    "from_dict",
    "merge",
    "apply_overrides",
    "load_config",
    "save_config",
]


class ConfigError(ValueError):
    """A config file or override does not fit the dataclass it targets."""


def to_dict(cfg: Any) -> dict[str, Any]:
    """A plain, YAML-safe dict of a dataclass (tuples become lists, paths strings)."""
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")
    return {f.name: _plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; missing keys keep their defaults."""
    return merge(cls(), data, where=where)  # type: ignore[call-arg]


def merge(cfg: T, delta: dict[str, Any] | None, *, where: str = "") -> T:
    """Return a copy of ``cfg`` with the keys in ``delta`` replaced (recursively)."""
    if not delta:
        return cfg
    if not isinstance(delta, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(delta).__name__}")
    hints = typing.get_type_hints(type(cfg))
    names = {f.name for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    for key, value in delta.items():
        path = f"{where}.{key}" if where else key
        if key not in names:
            raise ConfigError(
                f"unknown config key {path!r}; valid keys here: {', '.join(sorted(names))}"
            )
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a mapping, got {value!r}")
            changes[key] = merge(current, value, where=path)
        else:
            changes[key] = _coerce(value, hints.get(key, Any), path)
    return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]


def _coerce(value: Any, hint: Any, path: str) -> Any:
    """Check/convert a YAML value to the annotated field type (simple types only)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, path)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError("; ".join(errors))
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true/false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_dict(hint, value, where=path)
    return value


def apply_overrides(cfg: T, overrides: list[str] | tuple[str, ...] | None) -> T:
    """Apply ``key.sub=value`` strings; values are parsed as YAML (``3``, ``1e-3``, ``[1,2]``)."""
    for item in overrides or ():
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.sub=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        value = yaml.safe_load(raw) if raw.strip() else ""
        delta: dict[str, Any] = {}
        node, here = delta, cfg
        parts = key.split(".")
        for j, part in enumerate(parts[:-1]):
            current = getattr(here, part, None) if dataclasses.is_dataclass(here) else None
            if isinstance(current, dict):
                # a dict-valued field (``lambdas``): set one key and keep the others (a
                # second ``--set lambdas.x=`` must not drop the first)
                sub = copy.deepcopy(current)
                inner = sub
                for q in parts[j + 1 : -1]:
                    inner = inner.setdefault(q, {})
                inner[parts[-1]] = value
                node[part] = sub
                break
            node, here = node.setdefault(part, {}), current
        else:
            node[parts[-1]] = value
        cfg = merge(cfg, delta)
    return cfg


def load_config(
    cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None
) -> T:
    """Defaults of ``cls``, then the YAML delta at ``path`` (if any), then ``overrides``."""
    cfg = cls()  # type: ignore[call-arg]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from err
        cfg = merge(cfg, data, where="")
    return apply_overrides(cfg, overrides)


def save_config(cfg: Any, path: str | Path) -> Path:
    """Write the full config as YAML, atomically."""
    from mmgan.utils import atomic_write_text

    return atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))
