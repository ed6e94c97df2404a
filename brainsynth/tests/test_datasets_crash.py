"""Crash safety: a dataset run killed with SIGKILL at >= 20 random moments, restarted each
time, ends with every file present once, whole, and byte-identical to an uninterrupted run
(checksums), and nothing extra (no temporaries, no unrecorded subject).

Half the kills land at a random time after the start (start-up, clean-up of the previous
kill, first subject), half at a random time after a subject was recorded (generating,
compressing, writing or recording the next one), so the kills hit the run whatever the
machine's speed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from brainsynth.datasets import bids
from brainsynth.datasets.manifest import Manifest
from brainsynth.datasets.runner import Dataset, verify
from brainsynth.datasets.spec import check_spec
from brainsynth.tests.datasets_support import MODELS, ROOT, small_spec, write_spec

KILLS = 20
SPEC = small_spec(count=24, contrasts=["T1w"], seed=3)


def _subjects(out: Path) -> int:
    if not (out / bids.MANIFEST_FILE).exists():
        return 0
    m = Manifest(out / bids.MANIFEST_FILE)
    try:
        return m.count()
    finally:
        m.close()


def _recorded(out: Path) -> dict[str, str]:
    if not (out / bids.MANIFEST_FILE).exists():
        return {}
    m = Manifest(out / bids.MANIFEST_FILE)
    try:
        return {f["path"]: f["sha256"] for f in m.files()}
    finally:
        m.close()


def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    ds = Dataset(check_spec(SPEC, MODELS), reference, MODELS)
    ds.prepare()
    assert ds.run().done == SPEC["count"]
    expected = _recorded(reference)

    spec_file = write_spec(tmp_path, SPEC)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "brainsynth.datasets", "run", str(spec_file), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(20261202)
    kills, progress = 0, []
    for start in range(4 * KILLS):
        if kills >= KILLS:
            break
        before = _subjects(out)
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if start % 2 == 0:
            time.sleep(rng.uniform(0.1, 2.0))
        else:  # after the next subject is recorded, somewhere in the one after it
            deadline = time.monotonic() + 60
            while _subjects(out) == before and proc.poll() is None:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is None and _subjects(out) < SPEC["count"]:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        elif proc.poll() is None:
            proc.wait(60)
        proc.wait(60)
        progress.append(_subjects(out))  # subjects recorded after this start
    assert kills >= KILLS, f"only {kills} kills landed while the run was going"
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert verify(out) == []
    assert _recorded(out) == expected  # nothing missing, duplicated, or different
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.glob("sub-*/**/*") if p.is_file())
    assert on_disk == sorted(expected)
    assert not list(out.rglob(".*.tmp"))
    print(f"\n{kills} kill -9, subjects recorded after each start: {progress}")
