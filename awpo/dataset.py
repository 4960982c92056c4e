"""verl's ``RLHFDataset`` with an overlong-prompt filter that counts each row's own tools.

verl 0.9.1 measures a prompt for ``data.filter_overlong_prompts`` with only the globally configured tools
(``data.tool_config_path``), but the ``awpo_tool_agent`` loop renders every row with its own tool schemas
(``extra_info["tools"]``), which are often most of the prompt. A prompt that passes verl's filter can therefore exceed
``rollout.prompt_length`` once its tools are added, and verl's agent loop then cuts it from the left — the system turn
with the ``<tools>`` block goes first — with only a log warning. This dataset measures each prompt exactly as the
agent loop renders it (the model's chat template, the row's tools, the generation prompt) and drops the ones longer
than ``data.max_prompt_length``, reporting how many. The recipe selects it with ``data.custom_cls``.
"""

from __future__ import annotations

import logging
from typing import Any

import datasets
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.utils.tokenizer import normalize_token_ids

from awpo.rows import messages_for_chat_template
from awpo.tools import sample_tools

logger = logging.getLogger(__name__)


class AWPOToolDataset(RLHFDataset):
    """``RLHFDataset`` whose overlong-prompt filter renders each row with its own tools (text-only models)."""

    def rendered_prompt_length(self, row: dict[str, Any]) -> int:
        """Tokens of the row's prompt as the ``awpo_tool_agent`` loop renders it.

        Raises:
            ToolsError: the row's ``extra_info["tools"]`` is not a JSON list of tool schemas.
        """
        tools = sample_tools(row.get("extra_info"))
        kwargs = {
            key: value
            for key, value in dict(self.apply_chat_template_kwargs).items()
            if key not in ("tokenize", "return_dict", "return_tensors")
        }
        token_ids = self.tokenizer.apply_chat_template(
            messages_for_chat_template(list(row[self.prompt_key])),
            tools=self.tool_schemas if tools is None else tools,
            add_generation_prompt=True,
            tokenize=True,
            **kwargs,
        )
        return len(normalize_token_ids(token_ids))

    def maybe_filter_out_long_prompts(self, dataframe: datasets.Dataset | None = None) -> datasets.Dataset:
        """Drop rows whose rendered prompt (tools included) is longer than ``data.max_prompt_length`` tokens."""
        if not self.filter_overlong_prompts or self.processor is not None:
            return super().maybe_filter_out_long_prompts(dataframe)
        limit = self.max_prompt_length
        kept = dataframe.filter(
            lambda row: self.rendered_prompt_length(row) <= limit,
            num_proc=self.num_workers,
            desc=f"Filtering prompts longer than {limit} tokens (with their tools)",
        )
        dropped = len(dataframe) - len(kept)
        if dropped:
            logger.warning(
                "awpo dataset: dropped %d of %d prompts longer than data.max_prompt_length=%d tokens with their tools",
                dropped,
                len(dataframe),
                limit,
            )
        return kept
