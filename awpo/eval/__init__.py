"""Evaluation helpers: BFCL data and bfcl-eval's AST checker in the training environment."""
