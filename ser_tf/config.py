"""YAML recipes with inheritance and command-line overrides.

A recipe is a YAML file in ``configs/`` naming what it changes from the defaults, which live in
``ser_tf.settings`` (that module also turns the merged result into the typed config).
``base: other.yaml`` (relative to the recipe) names the file it inherits from; the recipe's keys
are deep-merged over it. ``--set a.b=value`` overrides are
applied last: the value is parsed as YAML (``1e-3`` is a float, ``[1, 2]`` a list, ``true`` a
bool), and the key must already exist in the merged config, so a typo is an error rather than a
silently ignored setting.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, MutableMapping

import yaml

from ser_tf.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

# Sections whose keys are free-form: architectures add their own hyper-parameters under `model`,
# so an override there may introduce a key the recipe does not name.
OPEN_SECTIONS = ("model",)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; recipes and ``--set`` mean a float."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _yaml_load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _read_yaml(path: Path) -> dict:
    try:
        data = _yaml_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping, got {type(data).__name__}")
    return data


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """A new dict: ``override`` merged into ``base``, recursing into nested mappings."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path, *, _seen: tuple = ()) -> dict:
    """Load a recipe, resolving its ``base:`` chain.

    Raises:
        ConfigError: missing file, invalid YAML, or a ``base:`` cycle.
    """
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"config {str(path)!r} inherits from itself through 'base:'")
    data = _read_yaml(path)
    base_name = data.pop("base", None)
    if base_name is None:
        return data
    return deep_merge(load_config(path.parent / base_name, _seen=_seen + (path,)), data)


def recipe_path(arch: str) -> Path:
    """``configs/<arch>.yaml``."""
    return CONFIG_DIR / f"{arch}.yaml"


def parse_override(text: str) -> tuple:
    """Split ``"a.b=value"`` into ``(["a", "b"], parsed value)``.

    Raises:
        ConfigError: no ``=``, an empty key, or a value that is not valid YAML.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"bad --set {text!r}: expected key.sub=value, e.g. train.epochs=20")
    try:
        value = _yaml_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"bad --set {text!r}: value is not valid YAML ({err})") from None
    return [k for k in key.strip().split(".")], value


def set_key(config: MutableMapping, keys: list, value: Any, *, text: str = "") -> None:
    """Set ``config[k1][k2]... = value``; the key path must exist, except in ``OPEN_SECTIONS``."""
    node = config
    for depth, key in enumerate(keys[:-1]):
        if not isinstance(node.get(key), MutableMapping):
            raise ConfigError(_unknown_key(config, keys[: depth + 1], text))
        node = node[key]
    last = keys[-1]
    if last not in node and not (len(keys) == 2 and keys[0] in OPEN_SECTIONS):
        raise ConfigError(_unknown_key(config, keys, text))
    node[last] = value


def _unknown_key(config: Mapping, keys: list, text: str) -> str:
    parent = config
    for key in keys[:-1]:
        parent = parent.get(key, {}) if isinstance(parent, Mapping) else {}
    where = ".".join(keys[:-1]) or "the top level"
    known = sorted(parent) if isinstance(parent, Mapping) else []
    return (
        f"unknown config key {'.'.join(keys)!r} in --set {text!r}; "
        f"keys known at {where}: {known}"
    )


def apply_overrides(config: Mapping, overrides: Iterable[str]) -> dict:
    """A copy of ``config`` with each ``key.sub=value`` override applied in order."""
    out = copy.deepcopy(dict(config))
    for text in overrides or ():
        keys, value = parse_override(text)
        set_key(out, keys, value, text=text)
    return out


def dump_config(config: Mapping) -> str:
    """The config as YAML text, keys in their original order."""
    return yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False)
