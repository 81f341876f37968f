"""Performance benchmarks: `uv run python -m benchmarks [--loans 10000,100000] [--only cob,posting,...]`.

Each run starts its own embedded PostgreSQL (fsync on, as in production) and Valkey, migrates, loads N
generated loans with loans.bulk, then measures every benchmark against a baseline that does the same
work the obvious way, in the same run. Results go to benchmarks/out/results-<date>.json.

Modules: cob.py, reports.py, posting.py, imports.py, books.py (one benchmark and its baseline each),
value_dating.py (a bank file dated 30 closed dates back against the same rows dated yesterday); environment.py
(servers, the API subprocess, bank liaisons).
"""
