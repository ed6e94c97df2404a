"""Full-size teacher: the same model as the browser at 1 mm (or 2 mm), all contrasts, labels."""

from brainsynth.teacher.generate import GeneratedVolume, generate, write_outputs

__all__ = ["GeneratedVolume", "generate", "write_outputs"]
