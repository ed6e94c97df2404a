"""Backend benchmarks: schemathesis fuzzing (fuzz.py) and a loopback load test (load.py)."""
