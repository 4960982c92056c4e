"""Dataset converters: ToolACE, xLAM, Hammer, ToolRL, generic chat formats, BFCL and API-Bank into verl RL parquet
rows.

Command line (each also runs as ``python data_preprocess/<name>.py``)::

    python -m data_preprocess.toolace --output-dir DIR        # Team-ACE/ToolACE       -> DIR/{train,val}.parquet
    python -m data_preprocess.xlam --output-dir DIR           # Salesforce/xlam-function-calling-60k
    python -m data_preprocess.hammer --output-dir DIR         # MadeAgents/xlam-irrelevance-7.5k
    python -m data_preprocess.toolrl --input F --output-dir DIR  # ToolRL rlla json or its verl parquet
    python -m data_preprocess.chat --input F --output-dir DIR    # OpenAI / HF messages, ShareGPT (LLaMA-Factory)
    python -m data_preprocess.bfcl --output-dir DIR           # installed bfcl-eval data -> DIR/val.parquet
    python -m data_preprocess.apibank --output-dir DIR        # API-Bank --input FILE --level N -> DIR/val.parquet
    python -m data_preprocess.merge --output-dir DIR IN...    # merge + deduplicate converter outputs
    python -m data_preprocess.check_overlap TRAIN.parquet     # training prompts found in BFCL

The row they write (``Sample``, ``ROW_SCHEMA``, ``AGENT_NAME``) is :mod:`awpo.rows`: the library owns the format its
agent loop, dataset and evaluation read, and the converters depend on it, never the reverse.

Modules: :mod:`~data_preprocess.pipeline` (streaming, splitting, stats), :mod:`~data_preprocess.reader` /
:mod:`~data_preprocess.writer` (streaming input, atomic parquet output), :mod:`~data_preprocess.tool_schema`
(OpenAI tool schemas), :mod:`~data_preprocess.coerce` and :mod:`~data_preprocess.calls` (typed ground truth),
:mod:`~data_preprocess.dsl` (ToolACE's bracket calls, no ``eval``), :mod:`~data_preprocess.dialogue` (one sample per
assistant turn, the text-turn policy), :mod:`~data_preprocess.augment` (seeded irrelevance augmentation and name
masking).
"""
