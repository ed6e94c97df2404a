"""The contrast registry: one module per contrast, in the schema's order."""

from __future__ import annotations

from brainsynth import contrasts
from brainsynth.pipeline.appearance import RELAXATION
from brainsynth.schema import CONTRASTS


def test_registry_follows_the_schema() -> None:
    assert tuple(contrasts.REGISTRY) == CONTRASTS
    # T1c starts from the IXI-measured T1w table (then pipeline/glioma_fit.py adds the uptake)
    assert [c for c in CONTRASTS if contrasts.get(c).measured_on_ixi_t1] == ["T1w", "T1c"]
    assert contrasts.get("T1c").signal(900, 80, 0.8) == contrasts.get("T1w").signal(900, 80, 0.8)


def test_signal_equations_give_the_textbook_contrast() -> None:
    def rel(c: str, group: str) -> float:
        s = contrasts.get(c).signal
        return s(*RELAXATION[group]) / s(*RELAXATION["wm"])

    assert rel("T1w", "csf") < rel("T1w", "cortex") < 1.0  # T1w: WM brightest, CSF dark
    assert rel("T2w", "csf") > rel("T2w", "cortex") > 1.0  # T2w: CSF brightest
    assert rel("FLAIR", "csf") < 0.5 < rel("FLAIR", "cortex")  # FLAIR: CSF suppressed
