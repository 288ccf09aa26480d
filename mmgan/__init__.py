"""mmgan — new music genres with conditional GANs.

Built so far: the foundation (config, audio I/O, log-mel features, Griffin-Lim),
the built-in tag-annotated corpus (``mmgan.data``), the style space
(``StyleSpace``: text, descriptors, audio and pictures in one embedding), the
evaluation toolkit (``mmgan.eval``) and the conditional spectrogram GAN with its
inference ``Pipeline`` (prompt -> track). Cover art and the demo arrive later.

Heavy submodules load on first use, so ``import mmgan`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Pipeline", "StyleSpace", "__version__"]

if TYPE_CHECKING:
    from mmgan.generate.pipeline import Pipeline
    from mmgan.style.space import StyleSpace


def __getattr__(name: str) -> Any:
    if name == "StyleSpace":
        from mmgan.style.space import StyleSpace

        return StyleSpace
    if name == "Pipeline":
        from mmgan.generate.pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'mmgan' has no attribute {name!r}")
