"""Rewards: the tool-call parser, the outcome reward, the reasoning judge and the ``awpo`` reward manager."""
