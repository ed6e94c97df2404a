"""What a contrast module provides: the Python twin of a contrast's entry in the engine.

`id` is its value of the conditions schema's `contrast` enum; `sequence` describes the simulated
acquisition; `signal(t1, t2, pd)` is its signal equation (relaxation times in ms, proton
density), from which the pipeline derives each label's mean intensity relative to white
matter; `measured_on_ixi_t1` marks the contrast whose brain-tissue means (and age slopes) are
instead measured on the real IXI T1 scans (pipeline/appearance.py).
"""

from __future__ import annotations


class Contrast:
    id: str = ""
    sequence: str = ""
    measured_on_ixi_t1: bool = False
    # BIDS: the file suffix and any extra entities (T1c: suffix T1w with ce-gadolinium)
    bids_suffix: str = ""
    bids_entities: dict[str, str] = {}

    def bids_name(self) -> tuple[dict[str, str], str]:
        """(entities, suffix) of this contrast's BIDS file name."""
        return dict(self.bids_entities), self.bids_suffix or self.id

    def signal(self, t1: float, t2: float, pd: float) -> float:
        raise NotImplementedError
