"""The dataset factory: a spec -> a deterministic, resumable BIDS derivative dataset with a
manifest database and a QA report. See docs/DATASETS.md and this folder's README.md."""

from brainsynth.datasets.derive import Subject, subject
from brainsynth.datasets.runner import Dataset, make_subject, verify
from brainsynth.datasets.spec import Spec, SpecError, check_spec, load_spec_file

__all__ = [
    "Dataset",
    "Spec",
    "SpecError",
    "Subject",
    "check_spec",
    "load_spec_file",
    "make_subject",
    "subject",
    "verify",
]
