"""Multi-turn tool use, executed: BFCL's stateful backends as per-episode environments for verl rollouts.

- :mod:`awpo.multiturn.backends` — the eight backend classes bfcl-eval ships (file system, math, messages, posting,
  tickets, trading, travel, vehicle control), their public methods and function docs;
- :mod:`awpo.multiturn.environment` — one episode's backend instances; calls dispatched by name to an allow-list
  of public methods with JSON arguments bound by signature (nothing is ever evaluated);
- :mod:`awpo.multiturn.calls` — BFCL's Python call strings read with :mod:`ast` (never evaluated);
- :mod:`awpo.multiturn.task` — the multi-turn task format (initial configuration, user turns, ground truth);
- :mod:`awpo.multiturn.bfcl_tasks` — BFCL's multi-turn entries as tasks;
- :mod:`awpo.multiturn.checker` — BFCL's per-turn state and execution checks on our executor;
- :mod:`awpo.multiturn.episode` — what an episode did (its steps and calls), as the agent loop records it;
- :mod:`awpo.multiturn.agent_loop` — the ``awpo_multiturn_agent`` loop (scripted user turns, executed calls);
- :mod:`awpo.multiturn.reward` — the outcome of an episode and the judge's view of it;
- :mod:`awpo.multiturn.options` — the ``multiturn.*`` episode limits.

docs/multiturn.md is the manual.
"""
