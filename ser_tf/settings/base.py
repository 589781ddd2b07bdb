"""The machinery of the typed config: a frozen, type-checked section that reads as a mapping."""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from typing import Any, ClassVar, Mapping, Union

from ser_tf.errors import ConfigError

__all__ = ["Section", "section"]


class Section(Mapping):
    """Base of every section: type-checked on construction, and readable as a mapping."""

    key: ClassVar[str] = ""  # the dotted config key of the section, for error messages

    @classmethod
    def from_mapping(cls, raw: Mapping):
        """The section from a YAML mapping; missing keys take the field defaults.

        Raises:
            ConfigError: an unknown key (names it, its value and the valid keys), or a bad value.
        """
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{cls.key} must be a mapping, got {raw!r}")
        names = list(cls._names())
        for name, value in raw.items():
            if name not in names:
                where = f"{cls.key}.{name}" if cls.key else str(name)
                raise ConfigError(
                    f"unknown config key {where!r} (value {value!r}); valid keys"
                    f"{' of ' + cls.key if cls.key else ''}: {names}"
                )
        return cls(**raw)

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            key = f"{self.key}.{f.name}" if self.key else f.name
            object.__setattr__(self, f.name, _check(getattr(self, f.name), hints[f.name], key))

    def to_dict(self) -> dict:
        """Plain YAML-able data: sections become dicts, tuples lists."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    # Mapping view: read-only, keys are the field names.
    def __getitem__(self, name):
        if name in self._names():
            return getattr(self, name)
        raise KeyError(name)

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls))

    def __deepcopy__(self, memo):
        return self  # immutable all the way down (open sections are read-only mapping proxies)


def _plain(value):
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _check(value, hint, key: str):
    """``value`` checked against the type ``hint`` (ints widen to floats, lists become tuples)."""
    if hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, Section):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return hint.from_mapping(value)
    if origin is Union:
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _check(value, option, key)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        names = " or ".join(_type_name(a) for a in args)
        raise ConfigError(f"{key} must be {names}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_check(v, args[0], key) for v in value)
        if len(value) != len(args):
            raise ConfigError(f"{key} must be a list of {len(args)} values, got {value!r}")
        return tuple(_check(v, a, key) for v, a in zip(value, args))
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return types.MappingProxyType(dict(value))
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if not isinstance(value, hint):
        raise ConfigError(f"{key} must be {_type_name(hint)}, got {value!r}")
    return value


def section(cls):
    """Class decorator: a frozen dataclass (a section is never changed once built)."""
    return dataclasses.dataclass(frozen=True)(cls)
