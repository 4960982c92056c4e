"""The AWPO training recipe (verl's ``recipe/<name>/`` layout): ``config/*.yaml`` and the ``main_awpo`` entry point,
which runs :func:`awpo.train.main` (installed as the ``awpo-train`` console script)."""
