"""Episode limits of the ``awpo_multiturn_agent`` loop: the ``multiturn`` block of the recipe config.

The block sits at the top level of the training config because verl turns ``actor_rollout_ref.rollout.*`` into
dataclasses that reject unknown keys. The total length of an episode is verl's own
``actor_rollout_ref.rollout.response_length`` (every generation, tool result and later user turn) and the first
turn's prompt, tools included, must fit ``actor_rollout_ref.rollout.prompt_length``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from awpo.options import Options, option

# bfcl-eval's MAXIMUM_STEP_LIMIT: generations that call tools within one user turn before it gives up.
BFCL_STEP_LIMIT = 20


@dataclass(frozen=True)
class EpisodeOptions(Options):
    """Limits of a multi-turn episode (``multiturn.*``), read by the ``awpo_multiturn_agent`` loop."""

    PREFIX: ClassVar[str] = "multiturn"

    max_steps_per_turn: int = option(
        BFCL_STEP_LIMIT,
        low=1,
        help="Generations that call tools within one user turn; one more stops the episode and the task fails, as "
        "bfcl-eval's force-quit (bfcl-eval: 20).",
    )
    max_tokens_per_step: int = option(
        1024,
        low=1,
        help="Tokens one generation may produce (the rest of actor_rollout_ref.rollout.response_length caps it too).",
    )
    max_calls_per_step: int = option(
        16, low=1, help="Calls executed from one generation; each further call gets an error result."
    )
    max_result_chars: int = option(
        2048, low=32, help="A tool result longer than this many characters is cut in the middle, with a marker."
    )
