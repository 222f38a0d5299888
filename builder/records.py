"""Records: the frozen dataclasses of the model, pickled compactly."""

from __future__ import annotations

import dataclasses


class Compact:
    """Pickled as its class and field values, without field names.

    Articles are pickled by the ten thousand (the cache, page fingerprints); the default
    pickling of a dataclass writes every field name with every object. Restoring fills
    the instance dict directly, several times faster than a frozen dataclass's __init__.
    """

    __slots__ = ()

    def __reduce__(self):
        return _rebuild, (type(self), tuple(self.__dict__.values()))


def _rebuild(cls, values: tuple):
    instance = object.__new__(cls)
    instance.__dict__.update(zip(_field_names(cls), values))
    return instance


_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names
