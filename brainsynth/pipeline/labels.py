"""Label table: FreeSurfer numbering and colours for brain labels, SynthSeg's extra-cerebral
classes (502-530), and the project's own pathology labels (labelRanges.pathology, MODEL_FORMAT.md
§4), which each pathology module in brainsynth/pathologies declares."""

from __future__ import annotations

from typing import TypedDict

from brainsynth import pathologies
from brainsynth.common.labels import LABEL_RANGES as LABEL_RANGES  # re-exported


class LabelEntry(TypedDict):
    index: int
    value: int
    name: str
    rgb: list[int]
    group: str


# value: (name, rgb, group). Colours follow FreeSurferColorLUT where FreeSurfer defines them.
_KNOWN: dict[int, tuple[str, tuple[int, int, int], str]] = {
    0: ("Unknown", (0, 0, 0), "background"),
    2: ("Left-Cerebral-White-Matter", (245, 245, 245), "wm"),
    3: ("Left-Cerebral-Cortex", (205, 62, 78), "cortex"),
    4: ("Left-Lateral-Ventricle", (120, 18, 134), "ventricle"),
    5: ("Left-Inf-Lat-Vent", (196, 58, 250), "ventricle"),
    7: ("Left-Cerebellum-White-Matter", (220, 248, 164), "cerebellum-wm"),
    8: ("Left-Cerebellum-Cortex", (230, 148, 34), "cerebellum-gm"),
    10: ("Left-Thalamus", (0, 118, 14), "deep-gm"),
    11: ("Left-Caudate", (122, 186, 220), "deep-gm"),
    12: ("Left-Putamen", (236, 13, 176), "deep-gm"),
    13: ("Left-Pallidum", (12, 48, 255), "deep-gm"),
    14: ("3rd-Ventricle", (204, 182, 142), "ventricle"),
    15: ("4th-Ventricle", (42, 204, 164), "ventricle"),
    16: ("Brain-Stem", (119, 159, 176), "brainstem"),
    17: ("Left-Hippocampus", (220, 216, 20), "hippocampus"),
    18: ("Left-Amygdala", (103, 255, 255), "amygdala"),
    24: ("CSF", (60, 60, 60), "csf"),
    25: ("Left-Lesion", (255, 165, 0), "wm"),
    26: ("Left-Accumbens-area", (255, 165, 0), "deep-gm"),
    28: ("Left-VentralDC", (165, 42, 42), "deep-gm"),
    30: ("Left-vessel", (160, 32, 240), "vessel"),
    41: ("Right-Cerebral-White-Matter", (245, 245, 245), "wm"),
    42: ("Right-Cerebral-Cortex", (205, 62, 78), "cortex"),
    43: ("Right-Lateral-Ventricle", (120, 18, 134), "ventricle"),
    44: ("Right-Inf-Lat-Vent", (196, 58, 250), "ventricle"),
    46: ("Right-Cerebellum-White-Matter", (220, 248, 164), "cerebellum-wm"),
    47: ("Right-Cerebellum-Cortex", (230, 148, 34), "cerebellum-gm"),
    49: ("Right-Thalamus", (0, 118, 14), "deep-gm"),
    50: ("Right-Caudate", (122, 186, 220), "deep-gm"),
    51: ("Right-Putamen", (236, 13, 176), "deep-gm"),
    52: ("Right-Pallidum", (13, 48, 255), "deep-gm"),
    53: ("Right-Hippocampus", (220, 216, 20), "hippocampus"),
    54: ("Right-Amygdala", (103, 255, 255), "amygdala"),
    57: ("Right-Lesion", (255, 165, 0), "wm"),
    58: ("Right-Accumbens-area", (255, 165, 0), "deep-gm"),
    60: ("Right-VentralDC", (165, 42, 42), "deep-gm"),
    62: ("Right-vessel", (160, 32, 240), "vessel"),
    85: ("Optic-Chiasm", (234, 169, 30), "wm"),
    # SynthSeg's extra-cerebral generation classes carry no names in its release; these names
    # are our reading of each class's position and size in the 20 label maps (see MODEL.md).
    502: ("Extra-cerebral 502 (skull-base vessels)", (140, 30, 30), "vessel"),
    506: ("Extra-cerebral 506 (eye globes)", (90, 170, 255), "eye"),
    507: ("Extra-cerebral 507 (muscle / soft tissue)", (150, 80, 70), "muscle"),
    508: ("Extra-cerebral 508 (optic nerve / orbit)", (230, 200, 120), "soft"),
    509: ("Extra-cerebral 509 (sinus / nasal cavity)", (30, 30, 60), "air"),
    511: ("Extra-cerebral 511 (subcutaneous fat)", (250, 230, 150), "fat"),
    512: ("Extra-cerebral 512", (120, 120, 120), "soft"),
    514: ("Extra-cerebral 514 (dura / meninges)", (190, 120, 190), "dura"),
    515: ("Extra-cerebral 515 (skull)", (235, 235, 215), "bone"),
    516: ("Extra-cerebral 516 (diploe / marrow)", (215, 190, 140), "marrow"),
    530: ("Extra-cerebral 530 (orbital tissue)", (200, 150, 100), "soft"),
}
# Pathology labels of this project (MODEL_FORMAT.md §4), from the pathology modules.
_KNOWN.update({lab.value: (lab.name, lab.rgb, "pathology") for lab in pathologies.all_labels()})

PATHOLOGY_VALUES = tuple(lab.value for lab in pathologies.all_labels())


def label_table(values_in_template: list[int]) -> list[LabelEntry]:
    """Index 0 is background; then the template's values in order; then pathology labels."""
    values = [0] + sorted(v for v in set(values_in_template) if v != 0)
    values += [v for v in PATHOLOGY_VALUES if v not in values]
    out: list[LabelEntry] = []
    for i, v in enumerate(values):
        name, rgb, group = _KNOWN.get(v, (f"Label-{v}", (128, 128, 128), "other"))
        out.append({"index": i, "value": v, "name": name, "rgb": list(rgb), "group": group})
    return out


# Regions of the regional (ageing) basis, in order. Volumes are also reported for these.
REGIONS: list[tuple[str, list[int]]] = [
    ("cortex", [3, 42]),
    ("cerebral-wm", [2, 41]),
    ("lateral-ventricles", [4, 43]),
    ("inf-lat-ventricles", [5, 44]),
    ("hippocampus", [17, 53]),
    ("amygdala", [18, 54]),
    ("deep-gm", [10, 11, 12, 13, 26, 28, 49, 50, 51, 52, 58, 60]),
    ("cerebellum", [7, 8, 46, 47]),
    ("brainstem", [16]),
    ("third-fourth-ventricles", [14, 15]),
    ("csf", [24]),
]

# Tissue channels used for registration (label values).
REGISTRATION_CHANNELS: list[list[int]] = [
    [3, 42],
    [2, 41, 85, 25, 57],
    [4, 43, 5, 44],
    [10, 11, 12, 13, 26, 28, 49, 50, 51, 52, 58, 60],
    [17, 18, 53, 54],
    [7, 8, 46, 47],
    [16],
    [24, 14, 15],
    [515, 516],
    [507, 511, 514, 502, 506, 508, 509, 512, 530],
]

BRAIN_TISSUE = [v for v in range(1, 100) if v not in (4, 43, 5, 44, 14, 15, 24)]
