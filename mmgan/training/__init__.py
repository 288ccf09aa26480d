"""Training loops: the contrastive style space (``contrastive``) and checkpoint helpers."""
