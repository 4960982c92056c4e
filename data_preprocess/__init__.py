"""Dataset converters: ToolACE, xLAM, Hammer and BFCL into verl RL parquet rows."""
