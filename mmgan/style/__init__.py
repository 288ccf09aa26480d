"""The style space: text, descriptors, audio and pictures as one L2-normalised vector.

Public entry point: :class:`mmgan.style.space.StyleSpace` (also ``mmgan.StyleSpace``).
Parts: ``text`` (frozen text encoders), ``audio_encoder`` (the trained log-mel CNN and
text projection), ``descriptors`` (vocabulary and nearest-descriptor lookup),
``algebra`` (prompt arithmetic), ``image`` / ``imageio`` / ``openclip`` (pictures).
Submodules import lazily; ``import mmgan.style`` loads nothing heavy.
"""
