"""The AWPO training recipe: ``python -m recipe.awpo.main_awpo`` (Hydra; defaults = verl's ``ppo_trainer``)."""
