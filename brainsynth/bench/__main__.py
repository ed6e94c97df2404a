"""`python -m brainsynth.bench` runs the teacher benchmark (brainsynth.bench.teacher)."""

from brainsynth.bench.teacher import main

main()
