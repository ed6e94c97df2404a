"""FLAIR: inversion recovery, TR 9000 ms, TI 2500 ms, TE 120 ms (magnitude)."""

from __future__ import annotations

import math

from brainsynth.contrasts.base import Contrast


class Flair(Contrast):
    id = "FLAIR"
    sequence = "inversion recovery, TR 9000 ms, TI 2500 ms, TE 120 ms (magnitude)"

    def signal(self, t1: float, t2: float, pd: float) -> float:
        return pd * abs(1 - 2 * math.exp(-2500 / t1) + math.exp(-9000 / t1)) * math.exp(-120 / t2)


CONTRAST = Flair()
