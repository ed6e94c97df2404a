"""Python benchmarks (`python -m brainsynth.bench.teacher`); the browser/backend ones are in
the repository's top-level `bench/`."""
