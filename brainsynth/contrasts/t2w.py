"""T2-weighted: spin echo, TR 4000 ms, TE 100 ms."""

from __future__ import annotations

import math

from brainsynth.contrasts.base import Contrast


class T2w(Contrast):
    id = "T2w"
    sequence = "spin echo, TR 4000 ms, TE 100 ms"

    def signal(self, t1: float, t2: float, pd: float) -> float:
        return pd * (1 - math.exp(-4000 / t1)) * math.exp(-100 / t2)


CONTRAST = T2w()
