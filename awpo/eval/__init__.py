"""Evaluation: BFCL's data (:mod:`~awpo.eval.bfcl_data`, the one reader of bfcl-eval's files) and AST checker,
offline BFCL scoring and the leaderboard summary with its bucket tables, and API-Bank scoring. Converting evaluation
data into rows is ``data_preprocess``'s job; nothing here imports it."""
