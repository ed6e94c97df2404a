"""T1c: post-contrast (gadolinium) T1-weighted, the T1w sequence after an intravenous
gadolinium-based contrast agent.

Its signal equation is T1w's (the pre-contrast baseline the pipeline starts from); the model's
table is then calibrated on the real T1c scans by `brainsynth.pipeline.glioma_fit`:
`T1c[l] = h(T1w[l]) * (1 + uptake[l])`, with h the measured map from a T1w ratio to the T1c
acquisition's pre-contrast ratio (healthy CSF, GM, WM) and `uptake` the per-label contrast-agent
enhancement: 0 for healthy brain behind an intact blood-brain barrier, the measured value for the
tumour labels (the enhancing rim strongly, necrosis and oedema barely), fixed values for dura and
vessels (no barrier). BIDS names it `*_ce-gadolinium_T1w.nii.gz` (datasets/bids.py).
"""

from __future__ import annotations

from brainsynth.contrasts.base import Contrast
from brainsynth.contrasts.t1w import CONTRAST as T1W


class T1c(Contrast):
    id = "T1c"
    sequence = "spoiled gradient echo, TR 20 ms, TE 4 ms, flip 25 deg, after gadolinium"
    measured_on_ixi_t1 = True  # baseline: the IXI-measured T1w table (then glioma_fit)
    bids_suffix = "T1w"
    bids_entities = {"ce": "gadolinium"}

    def signal(self, t1: float, t2: float, pd: float) -> float:
        return T1W.signal(t1, t2, pd)


CONTRAST = T1c()
