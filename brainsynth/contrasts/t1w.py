"""T1-weighted: spoiled gradient echo, TR 20 ms, TE 4 ms, flip 25 deg; brain tissue means
measured on the IXI T1 scans."""

from __future__ import annotations

import math

from brainsynth.contrasts.base import Contrast


class T1w(Contrast):
    id = "T1w"
    sequence = "spoiled gradient echo, TR 20 ms, TE 4 ms, flip 25 deg"
    measured_on_ixi_t1 = True

    def signal(self, t1: float, t2: float, pd: float) -> float:
        e1 = math.exp(-20 / t1)
        a = math.radians(25)
        return pd * math.sin(a) * (1 - e1) / (1 - math.cos(a) * e1) * math.exp(-4 / t2)


CONTRAST = T1w()
