"""A ``cpu`` platform for verl's platform registry (``VERL_PLATFORM=cpu``).

verl 0.9.1 ships CUDA, NPU and ROCm platforms only and falls back to CUDA when none is present. This platform runs
torch on the CPU with the gloo backend. Two answers are deliberately not the CPU's own: ``current_device`` is the
string ``"cpu"`` (verl passes it to ``tensor.to``, ``torch.device`` and FSDP, where an integer would mean
``cuda:<n>``), and the Ray resource name is ``GPU`` — verl's resource pools count GPU bundles, so Ray is started
with as many *logical* GPUs as training ranks (``ray_init.num_gpus``), each of which is a CPU process.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import psutil
import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry

PLATFORM_NAME = "cpu"


def _device_module() -> types.ModuleType:
    """A ``torch.cuda``-shaped module whose answers describe the host CPU (memory from psutil)."""
    module = types.ModuleType("awpo_cpu_device")
    module.is_available = lambda: True
    module.device_count = lambda: 1
    module.current_device = lambda: PLATFORM_NAME
    module.set_device = lambda *args, **kwargs: None
    module.synchronize = lambda *args, **kwargs: None
    module.empty_cache = lambda: None
    module.ipc_collect = lambda: None
    module.memory_allocated = lambda *args, **kwargs: 0
    module.max_memory_allocated = lambda *args, **kwargs: 0
    module.memory_reserved = lambda *args, **kwargs: 0
    module.max_memory_reserved = lambda *args, **kwargs: 0
    module.reset_peak_memory_stats = lambda *args, **kwargs: None
    module.set_per_process_memory_fraction = lambda *args, **kwargs: None
    module.get_device_name = lambda *args, **kwargs: PLATFORM_NAME
    module.mem_get_info = lambda *args, **kwargs: (psutil.virtual_memory().available, psutil.virtual_memory().total)
    module.manual_seed = torch.manual_seed
    module.manual_seed_all = torch.manual_seed
    module.get_rng_state = lambda *args, **kwargs: torch.get_rng_state()
    module.set_rng_state = lambda state, *args, **kwargs: torch.set_rng_state(state)
    module.current_stream = getattr(torch.cpu, "current_stream", lambda *args, **kwargs: None)
    module.stream = getattr(torch.cpu, "stream", lambda *args, **kwargs: contextlib.nullcontext())
    module.Stream = getattr(torch.cpu, "Stream", None)
    module.Event = getattr(torch.cpu, "Event", None)
    return module


_DEVICE_MODULE = _device_module()


@PlatformRegistry.register(platform=PLATFORM_NAME)
class PlatformCPU(PlatformBase):
    """verl platform for CPU-only machines (gloo collectives, logical Ray GPUs)."""

    @property
    def device_name(self) -> str:
        return PLATFORM_NAME

    @property
    def vendor_name(self) -> str:
        return PLATFORM_NAME

    @property
    def device_module(self) -> types.ModuleType:
        return _DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        return True

    def current_device(self) -> str:  # type: ignore[override]
        return PLATFORM_NAME

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: int | None = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextlib.contextmanager
    def nvtx_range(self, msg: str) -> Iterator[None]:
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None
