"""Hydra entry points of the project's training recipes."""
