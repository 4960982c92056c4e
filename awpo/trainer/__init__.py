"""Trainer integration: the hooks that feed the reasoning reward to the ``awpo`` estimator inside verl's trainers."""
