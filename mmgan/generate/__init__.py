"""Inference: :class:`Pipeline` (prompt -> track), latent tools and long-form composition."""

from mmgan.generate.pipeline import GenerationResult, Pipeline

__all__ = ["GenerationResult", "Pipeline"]
