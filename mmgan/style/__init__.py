"""The style space: text, descriptors, audio and images in one L2-normalised embedding."""
