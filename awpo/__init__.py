"""AWPO: advantage-weighted integration of an LLM-judged reasoning reward into GRPO, as a verl 0.9.1 recipe.

Importing this package is cheap and registers nothing; verl loads :mod:`awpo.plugin` through the ``verl.plugins``
entry point in every process that imports verl.
"""

__version__ = "0.1.0"
