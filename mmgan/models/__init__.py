"""Generative networks: one family a file (``specgan`` = conditional log-mel GAN)."""
