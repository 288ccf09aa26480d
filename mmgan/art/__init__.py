"""Cover art: the offline procedural engine, titles, and the optional diffusers path."""
