"""An ``hf`` rollout for verl 0.9.1: a transformers ``generate()`` server, so the real trainer runs without vLLM.

verl's rollouts are server replicas (vLLM, SGLang, TRT-LLM), all CUDA-only. This module registers a third kind,
``actor_rollout_ref.rollout.name=hf``:

- :class:`HFServer`, a Ray actor holding the model and answering token-in/token-out ``generate`` calls from the
  agent loops (one request at a time: meant for tiny models);
- :class:`HFReplica`, the ``RolloutReplica`` that launches it (``RolloutReplicaRegistry``);
- :class:`HFServerAdapter`, the ``BaseRollout`` living in each hybrid actor worker, which pushes the trained
  weights into the server after every update (``_ROLLOUT_REGISTRY[("hf", "async")]``).

:func:`awpo.cpu.activate` registers both by name; this module is imported only in the processes that use them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any

import ray
import torch
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, TokenOutput

THREADS_ENV = "AWPO_CPU_GENERATE_THREADS"


def server_name(replica_rank: int) -> str:
    """The Ray actor name of a replica's generation server."""
    return f"awpo_cpu_hf_server_{replica_rank}"


class HFServer:
    """Token-in/token-out generation with ``transformers.AutoModelForCausalLM.generate`` on the CPU.

    Args:
        config: verl's ``RolloutConfig`` (prompt/response lengths).
        model_config: verl's ``HFModelConfig`` or the ``actor_rollout_ref.model`` config (the model's path).
        replica_rank: the replica this server belongs to.
    """

    def __init__(self, config: Any, model_config: Any, replica_rank: int) -> None:
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(int(os.environ.get(THREADS_ENV, "1")))
        torch.manual_seed(config.seed + replica_rank)  # reproducible sampling for a given rollout seed
        self.config = config
        self.replica_rank = replica_rank
        # HFModelConfig carries the resolved ``local_path``; the replica may hand over the raw config instead.
        path = model_config.local_path if hasattr(model_config, "local_path") else model_config.path
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        generation = self.model.generation_config
        eos = generation.eos_token_id
        self.eos_token_ids = set(eos if isinstance(eos, list) else [eos])
        self.pad_token_id = generation.pad_token_id if generation.pad_token_id is not None else 0
        self.global_steps = 0
        self.weight_updates = 0
        self._lock = asyncio.Lock()

    def ready(self) -> bool:
        return True

    def load_weights(self, state_dict: dict[str, torch.Tensor], global_steps: int | None = None) -> int:
        """Load (part of) the trained weights; returns how many tensors were loaded.

        Raises:
            ValueError: when a tensor name does not belong to the model (the sync would silently be wrong).
        """
        _, unexpected = self.model.load_state_dict(state_dict, strict=False)
        if unexpected:
            raise ValueError(f"hf rollout: weights {unexpected[:5]} do not belong to the rollout model")
        self.weight_updates += 1
        if global_steps is not None:
            self.global_steps = global_steps
        return len(state_dict)

    async def generate(
        self, prompt_ids: list[int], sampling_params: dict[str, Any], request_id: str | None = None, **kwargs: Any
    ) -> TokenOutput:
        """Generate one response (requests are served one at a time)."""
        async with self._lock:
            return await asyncio.to_thread(self._generate, list(prompt_ids), dict(sampling_params or {}))

    def _generate(self, prompt_ids: list[int], sampling: dict[str, Any]) -> TokenOutput:
        budget = self.config.prompt_length + self.config.response_length - len(prompt_ids)
        max_tokens = int(sampling.get("max_tokens") or sampling.get("max_new_tokens") or self.config.response_length)
        max_tokens = max(1, min(max_tokens, self.config.response_length, budget))
        temperature = float(sampling.get("temperature", 1.0))
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": temperature > 0}
        if temperature > 0:
            top_k = int(sampling.get("top_k", -1))
            options.update(temperature=temperature, top_p=float(sampling.get("top_p", 1.0)), top_k=max(top_k, 0))
        inputs = torch.tensor([prompt_ids], dtype=torch.long)
        with torch.no_grad():
            output = self.model.generate(
                input_ids=inputs,
                attention_mask=torch.ones_like(inputs),
                eos_token_id=sorted(self.eos_token_ids),
                pad_token_id=self.pad_token_id,
                output_scores=True,
                return_dict_in_generate=True,
                **options,
            )
        tokens = output.sequences[0, inputs.shape[1] :].tolist()
        for position, token in enumerate(tokens):
            if token in self.eos_token_ids:
                tokens = tokens[: position + 1]
                break
        log_probs = None
        if sampling.get("logprobs"):
            log_probs = [
                float(torch.log_softmax(output.scores[position][0].float(), dim=-1)[token])
                for position, token in enumerate(tokens)
            ]
        return TokenOutput(
            token_ids=tokens,
            log_probs=log_probs,
            stop_reason="completed",
            extra_fields={"global_steps": self.global_steps},
        )

    async def wake_up(self) -> None:
        return None

    async def sleep(self) -> None:
        return None

    async def clear_kv_cache(self) -> None:
        return None

    async def release_kv_cache(self) -> None:
        return None

    async def resume_kv_cache(self) -> None:
        return None

    async def abort_all_requests(self, reject_request: bool = False) -> dict:
        return {}

    async def resume_generation(self) -> None:
        return None

    async def wait_for_requests_to_drain(self) -> None:
        return None

    async def start_profile(self, **kwargs: Any) -> None:
        return None

    async def stop_profile(self) -> None:
        return None


class HFReplica(RolloutReplica):
    """Launches one :class:`HFServer` per replica (no GPU workers of its own)."""

    async def launch_servers(self) -> None:
        server = (
            ray.remote(HFServer)
            .options(name=server_name(self.replica_rank), num_cpus=0, max_concurrency=self.max_concurrency)
            .remote(self.config, self.model_config, self.replica_rank)
        )
        await server.ready.remote()
        self.servers = [server]
        self._server_handle = server
        self._server_address = server_name(self.replica_rank)

    def rollout_worker_use_gpu(self) -> bool:
        return False


class HFServerAdapter(BaseRollout):
    """The rollout side of the hybrid actor worker: forwards each weight update to the replica's server."""

    def __init__(
        self, config: Any, model_config: Any, device_mesh: Any, *args: Any, replica_rank: int = -1, **kwargs: Any
    ) -> None:
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", "0"))
        replica_size = (
            self.config.tensor_model_parallel_size
            * self.config.data_parallel_size
            * self.config.pipeline_model_parallel_size
        )
        self.replica_rank = rank // replica_size if replica_rank == -1 else replica_rank
        self.is_leader = rank % replica_size == 0

    async def resume(self, tags: list[str]) -> None:
        return None

    async def release(self) -> None:
        return None

    async def update_weights(
        self, weights: Iterable[tuple[str, torch.Tensor]], wire_format: str = "named_tensors", **kwargs: Any
    ) -> None:
        if wire_format != "named_tensors":
            raise NotImplementedError(f"hf rollout supports only named_tensors weight updates, not {wire_format!r}")
        state = {}
        for name, tensor in weights:
            full = tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor
            state[name] = full.detach().to("cpu", copy=True)
        if self.is_leader:
            server = ray.get_actor(server_name(self.replica_rank))
            await server.load_weights.remote(state, kwargs.get("global_steps"))
