"""The runtime adjustments verl 0.9.1 needs on a CPU (applied only by :func:`awpo.cpu.activate`).

1. ``torch.distributed.init_process_group``: verl asks for ``"cpu:gloo,{device}:{backend}"``, which is
   ``"cpu:gloo,cpu:gloo"`` here and rejected by torch ("Duplicate device type cpu"); it becomes ``"gloo"``.
2. FSDP2 ``CPUOffloadPolicy(pin_memory=True)`` (verl's reference-model offload): pinned memory needs an
   accelerator, so ``pin_memory`` is turned off.

The V1 trainer's 2-second replay-buffer poll is shortened by the AWPO trainer itself
(:meth:`awpo.trainer.v1.AWPOAdvantageMixin._build_replay_buffer`), not patched here.
"""

from __future__ import annotations

from typing import Any

import torch.distributed

_applied = False


def apply_all() -> None:
    """Apply every adjustment once per process."""
    global _applied
    if not _applied:
        _patch_process_group_backend()
        _patch_offload_pin_memory()
        _applied = True


def _patch_process_group_backend() -> None:
    original = torch.distributed.init_process_group

    def init_process_group(*args: Any, **kwargs: Any) -> Any:
        backend = kwargs.get("backend", args[0] if args else None)
        if isinstance(backend, str) and "," in backend:
            devices = {part.split(":")[0] for part in backend.split(",")}
            if devices == {"cpu"}:
                if args:
                    args = ("gloo", *args[1:])
                else:
                    kwargs["backend"] = "gloo"
        return original(*args, **kwargs)

    torch.distributed.init_process_group = init_process_group


def _patch_offload_pin_memory() -> None:
    from torch.distributed.fsdp import CPUOffloadPolicy

    original = CPUOffloadPolicy.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        object.__setattr__(self, "pin_memory", False)

    CPUOffloadPolicy.__init__ = __init__
