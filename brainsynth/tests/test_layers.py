"""Rooms in their place: each subpackage imports only what its README allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1]
# subpackage (or module) -> brainsynth subpackages/modules it must not import
FORBIDDEN: dict[str, set[str]] = {
    "common": {"anatomy", "pathologies", "contrasts", "model_io", "teacher", "pipeline",
               "distill", "qa", "fixtures", "bench", "server", "schema"},
    "schema": {"common", "anatomy", "pathologies", "contrasts", "model_io", "teacher",
               "pipeline", "distill", "qa", "fixtures", "bench", "server"},
    "contrasts": {"common", "anatomy", "pathologies", "model_io", "teacher", "pipeline",
                  "distill", "qa", "fixtures", "bench", "server"},
    "anatomy": {"pathologies", "model_io", "teacher", "pipeline", "distill", "qa", "server"},
    "folding": {"anatomy", "pathologies", "model_io", "teacher", "pipeline", "distill", "qa",
                "server"},
    "sizing": {"anatomy", "pathologies", "model_io", "teacher", "pipeline", "distill", "qa",
               "server"},
    "depth_layers": {"anatomy", "pathologies", "model_io", "teacher", "pipeline", "distill",
                     "qa", "server"},
    "pathologies": {"teacher", "pipeline", "distill", "qa", "fixtures", "bench", "server"},
    "teacher": {"pipeline", "distill", "qa", "fixtures", "bench", "server"},
    "pipeline": {"teacher", "distill", "qa", "fixtures", "bench", "server"},
    "distill": {"pipeline", "qa", "bench", "server"},
    "qa": {"pipeline.build", "server", "fixtures", "bench"},
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n.removeprefix("brainsynth.") for n in names if n.startswith("brainsynth.")}
        if isinstance(node, ast.ImportFrom) and node.module == "brainsynth":
            out |= {a.name for a in node.names}
    return out


def _files(room: str) -> list[Path]:
    single = PKG / f"{room}.py"
    return [single] if single.exists() else sorted((PKG / room).rglob("*.py"))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_imports_only_what_it_may(room: str) -> None:
    bad = []
    for f in _files(room):
        for imp in _imports(f):
            if any(imp == x or imp.startswith(x + ".") for x in FORBIDDEN[room]):
                bad.append(f"{f.relative_to(PKG)} imports brainsynth.{imp}")
    assert bad == []


def test_no_two_modules_share_a_name_that_does_different_things() -> None:
    # now fixtures/{engine,student}_parity, pipeline/model_folder, distill/export_student
    for name in ("parity.py", "export.py"):
        assert list(PKG.rglob(name)) == [], name
    assert not (PKG / "bench.py").exists()  # the benchmarks are the brainsynth.bench package
