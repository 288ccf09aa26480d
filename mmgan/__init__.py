"""mmgan — new music genres with conditional GANs.

Built so far: the foundation (config, audio I/O, log-mel features, Griffin-Lim)
and the built-in tag-annotated corpus (``mmgan.data``). The style space, GAN,
pipeline and demo arrive with later issues.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
