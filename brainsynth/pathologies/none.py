"""Healthy: no gains, no lesion, no features of its own."""

from __future__ import annotations

from brainsynth.pathologies.base import Pathology


class Healthy(Pathology):
    id = "none"


PATHOLOGY = Healthy()
