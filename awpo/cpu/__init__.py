"""CPU backend: run the real verl 0.9.1 trainer (and so this recipe) on a machine without a GPU.

For trying the recipe, debugging reward and config changes, and CI — not for real training: the rollout is
``transformers.generate`` one request at a time and training is FSDP2 over gloo, which is fine for a model with a
few hundred thousand parameters and hopeless for a real one.

It is active only when asked for: ``AWPO_CPU_BACKEND=1`` in the environment of every process (the launcher
``python -m awpo.cpu.launch`` sets it), in which case the package's verl plugin calls :func:`activate`. It adds

- a ``cpu`` platform to verl's platform registry (selected with ``VERL_PLATFORM=cpu``);
- an ``hf`` rollout (``actor_rollout_ref.rollout.name=hf``): a transformers generation server with weight sync
  (:mod:`awpo.cpu.hf_rollout`, registered by name and imported only where verl uses it);
- two runtime adjustments (:mod:`awpo.cpu.patches`).

It refuses to activate where CUDA is available, so it can never change a GPU run.
"""

from __future__ import annotations

import os

import torch

ENV_FLAG = "AWPO_CPU_BACKEND"
HF_ROLLOUT = "hf"


class CPUBackendError(RuntimeError):
    """The CPU backend was requested where it must not run."""


def requested() -> bool:
    """True when this process was asked to use the CPU backend (``AWPO_CPU_BACKEND=1``)."""
    return os.environ.get(ENV_FLAG, "") == "1"


def activate() -> None:
    """Register the ``cpu`` platform and the ``hf`` rollout and apply the CPU adjustments (idempotent).

    Raises:
        CPUBackendError: when CUDA is available (the backend is for CPU-only machines).
    """
    if torch.cuda.is_available():
        raise CPUBackendError(
            f"{ENV_FLAG}=1 on a machine with CUDA: the CPU backend is for CPU-only machines; unset {ENV_FLAG} "
            "and use the GPU recipe (scripts/train_*.sh)"
        )
    from verl.workers.rollout import base as rollout_base
    from verl.workers.rollout.replica import RolloutReplicaRegistry

    from awpo.cpu import patches, platform  # noqa: F401  (the platform registers itself on import)

    rollout_base._ROLLOUT_REGISTRY[(HF_ROLLOUT, "async")] = "awpo.cpu.hf_rollout.HFServerAdapter"
    RolloutReplicaRegistry.register(HF_ROLLOUT, _hf_replica_class)
    patches.apply_all()


def _hf_replica_class() -> type:
    from awpo.cpu.hf_rollout import HFReplica

    return HFReplica
