"""Built-in numpy instruments, drum kits and pedalboard effects.

Importing this package registers every instrument in ``INSTRUMENTS``.
"""

from . import drums, electronic, guitars, keys, orchestral  # noqa: F401  (register instruments)
from .registry import INSTRUMENTS, InstrumentSpec, get_instrument, instrument
from .render import render_part, render_score

__all__ = [
    "INSTRUMENTS",
    "InstrumentSpec",
    "get_instrument",
    "instrument",
    "render_part",
    "render_score",
]
