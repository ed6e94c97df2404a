"""Code shared by the pipeline, the teacher and QA: grids, RNG, the normative sampler."""
