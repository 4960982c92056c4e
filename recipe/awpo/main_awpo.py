"""verl's recipe convention for the AWPO entry point: ``python -m recipe.awpo.main_awpo [hydra overrides...]`` from
the repository root. Everything lives in :mod:`awpo.train`; the ``awpo-train`` console script runs the same
:func:`awpo.train.main` from any directory."""

from awpo.train import main

if __name__ == "__main__":
    main()
