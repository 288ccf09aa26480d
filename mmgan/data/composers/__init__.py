"""Procedural genre composers, one file per genre; importing registers them in ``COMPOSERS``."""

from importlib import import_module

from .base import COMPOSERS, Composer, Composition, register_composer

# genre modules, in display order (each calls @register_composer)
GENRE_MODULES = (
    "baroque",
    "symphonic",
    "idm",
    "techno",
    "jazz",
    "metal",
    "folk",
    "ambient",
    "hiphop",
    "reggae",
)
for _name in GENRE_MODULES:
    import_module(f"{__name__}.{_name}")

GENRES: tuple[str, ...] = tuple(g for g in GENRE_MODULES if g in COMPOSERS)

__all__ = ["COMPOSERS", "Composer", "Composition", "GENRES", "register_composer"]
