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


def test_population_fraction_replaces_the_samples_head_sizes_by_a_populations() -> None:
    import numpy as np

    sd = 0.07
    band = (float(np.exp(-0.6745 * sd)), float(np.exp(0.6745 * sd)))  # a normal's 25-75 range
    # subjects that differ only by head size: a population of them has half inside the band,
    # whatever their own head sizes were (here a sample twice too spread out)
    z = np.linspace(-2.0, 2.0, 9) * 2.0
    assert anatomy.population_fraction(np.exp(sd * z), z, sd, band) == pytest.approx(0.5, abs=0.01)
    # the raw share of that sample is far lower
    rel = np.exp(sd * z) / np.median(np.exp(sd * z))
    assert np.mean((rel >= band[0]) & (rel <= band[1])) < 0.3
    # shapes that vary as well widen the population: fewer inside
    shape = np.array([0.9, 1.1] * 4 + [1.0])
    assert anatomy.population_fraction(shape * np.exp(sd * z), z, sd, band) < 0.4
