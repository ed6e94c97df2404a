"""Bad command lines of the new QA/pipeline commands get a clear message, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from brainsynth.pipeline import appearance_fit
from brainsynth.qa import anatomy


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "1"], "--seeds must be at least 2"),
        (["--ages", "40,x"], "--ages must be comma-separated whole years"),
        (["--ages", "10,45"], "--ages must lie within the model's 20-90 years"),
        (["--ad-ages", "75,y"], "--ad-ages must be comma-separated whole years"),
        (["--ad-ages", "95"], "--ad-ages must lie within the model's 20-90 years"),
    ],
)
def test_anatomy_refuses_bad_arguments(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        anatomy.main(argv)


def test_appearance_fit_refuses_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="has no manifest.json"):
        appearance_fit.main(["--reapply", "--model", str(tmp_path)])
    (tmp_path / "manifest.json").write_text('{"appearance": {}}')
    with pytest.raises(SystemExit, match="no appearance fit to re-apply"):
        appearance_fit.main(["--reapply", "--model", str(tmp_path)])
