"""`python -m brainsynth.datasets bench [subjects|writing|db|all]`: what a dataset costs.

- subjects: N subjects at 1 mm (T1w + labels) end to end through the runner, on this machine,
  with the stage split from the manifest (generation, compression, writing, indexing).
- writing: one 1 mm subject's image and label map stored every way that stays standard NIfTI
  (float32 / int16 with scaling; gzip levels; python-isal and zlib-ng when installed;
  parallel writer threads — zlib releases the GIL), MB/s and bytes.
- db: the manifest at 100,000 synthetic subjects (+ 4 files each): SQLite (stdlib) vs
  Parquet + DuckDB when `duckdb` is installed — load time, the example query, size.

It prints the budget beside each figure: 100,000 subjects (1 mm, T1w + labels) in 7 hours on
one GPU machine with 16 cores, i.e. >= 4 subjects/s. Run heavy benchmarks under
`flock /tmp/heavy.lock`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.datasets import bids
from brainsynth.datasets.manifest import Manifest, parse_filter
from brainsynth.datasets.runner import Dataset
from brainsynth.datasets.spec import check_spec

BUDGET_PER_S = 100_000 / (7 * 3600)  # 3.97 subjects/s
MB = 1e6


def _subjects(models: Path, n: int, out: Path) -> dict[str, Any]:
    spec = check_spec(
        {"name": "bench", "count": n, "seed": 1, "resolutionMm": 1, "contrasts": ["T1w"]}, models
    )
    ds = Dataset(spec, out, models)
    manifest = ds.prepare()
    todo = ds.todo()
    from brainsynth.datasets.runner import make_subject

    index_s = []
    t0 = time.perf_counter()
    for i in todo:
        rec = make_subject(ds.job, i)
        t = time.perf_counter()
        manifest.record(rec)
        index_s.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    rows = manifest.subjects()
    split = {
        k: float(np.mean([r[k] for r in rows])) for k in ("generate_s", "compress_s", "write_s")
    }
    split["index_s"] = float(np.mean(index_s))
    per = wall / len(todo)
    return {
        "subjects": len(todo),
        "resolution_mm": 1,
        "contrasts": ["T1w"],
        "cpu_cores": os.cpu_count(),
        "seconds_per_subject": round(per, 3),
        "subjects_per_hour": round(3600 / per, 1),
        "stage_seconds": {k: round(v, 3) for k, v in split.items()},
        "bytes_per_subject": int(np.mean([r["bytes"] for r in rows])),
        "budget_subjects_per_s": round(BUDGET_PER_S, 2),
    }


def _one_volume(models: Path) -> Any:
    from brainsynth.teacher.generate import generate

    cond = {"age": 60, "sex": "female", "pathology": "none", "contrast": "T1w"}
    return generate(models / "brainsynth-shape-v1", cond, 1, 1.0, ("T1w",))


def _compressors() -> list[tuple[str, list[int]]]:
    out = [("zlib", [1, 3, 6, 9])]
    try:
        import isal  # noqa: F401

        out.append(("isal", [0, 1, 2, 3]))
    except ImportError:
        pass
    try:
        import zlib_ng  # noqa: F401

        out.append(("zlib-ng", [1, 3, 6]))
    except ImportError:
        pass
    return out


def _writing(models: Path, repeats: int = 2) -> dict[str, Any]:
    vol = _one_volume(models)
    image, labels = vol.images["T1w"], vol.labels
    results: list[dict[str, Any]] = []
    for dtype in ("float32", "int16"):
        raw_img = bids.nifti_bytes(image, vol.affine, "bench", dtype, label=False)
        raw_seg = bids.nifti_bytes(labels, vol.affine, "bench", "int16", label=True)
        raw = len(raw_img) + len(raw_seg)
        for comp, levels in _compressors():
            for level in levels:
                opts = bids.WriteOptions(dtype, level, comp)
                best = 1e9
                for _ in range(repeats):
                    t = time.perf_counter()
                    size = len(bids.compress(raw_img, opts)) + len(bids.compress(raw_seg, opts))
                    best = min(best, time.perf_counter() - t)
                results.append(
                    {
                        "image_dtype": dtype,
                        "compressor": comp,
                        "level": level,
                        "seconds": round(best, 3),
                        "input_MB_per_s": round(raw / best / MB, 1),
                        "bytes": size,
                        "ratio": round(raw / size, 2),
                    }
                )
    # float32 vs int16 scaled: the largest error int16 storage makes on this image
    import nibabel as nib

    img16 = nib.Nifti1Image.from_bytes(bids.nifti_bytes(image, vol.affine, "b", "int16", False))
    err = float(np.abs(np.asarray(img16.get_fdata(), np.float32) - image).max())
    rng = float(image.max() - image.min())
    # parallel writers: the same subject's two files x 4 subjects in threads
    raws = [bids.nifti_bytes(image, vol.affine, "b", "float32", False)] * 4
    raws += [bids.nifti_bytes(labels, vol.affine, "b", "int16", True)] * 4
    opts = bids.WriteOptions("float32", 1, "zlib")
    threads = {}
    for n in (1, 2, 4):
        t = time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda r: bids.compress(r, opts), raws))
        threads[n] = round(4 / (time.perf_counter() - t), 2)  # subjects/s compressed
    # the fastest real compression (level 0 only stores): what the projection uses
    fastest = min((r for r in results if r["level"] >= 1), key=lambda r: r["seconds"])
    return {
        "choices": results,
        "int16_max_abs_error": round(err, 5),
        "int16_error_over_range": round(err / rng, 7),
        "compress_subjects_per_s_by_threads": threads,
        "fastest": fastest,
    }


def _db(rows: int = 100_000) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    age = rng.uniform(20, 90, rows)
    sex = rng.choice(["female", "male"], rows)
    path = rng.choice(["none", "ms", "stroke", "glioma", "alzheimers"], rows)
    lesion = np.where(path == "ms", rng.uniform(0.5, 40, rows), 0.0)
    out: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        m = Manifest(Path(tmp) / "m.sqlite3", ["vol_icv", "vol_cortex"])
        with m.tx() as db:
            db.executemany(
                "INSERT INTO subjects (idx, participant_id, seed, age, sex, pathology, conditions, "
                "pathology_details, icv_ml, lesion_ml, bytes, done_at, vol_icv, vol_cortex) "
                "VALUES (?, ?, ?, ?, ?, ?, '{}', '{}', ?, ?, 0, 0, ?, ?)",
                [
                    (
                        i,
                        f"sub-{i + 1:06d}",
                        i,
                        float(age[i]),
                        str(sex[i]),
                        str(path[i]),
                        1400.0,
                        float(lesion[i]),
                        1400.0,
                        500.0,
                    )
                    for i in range(rows)
                ],
            )
            db.executemany(
                "INSERT INTO files (path, idx, kind, contrast, bytes, sha256) "
                "VALUES (?, ?, ?, ?, 0, ?)",
                [
                    (f"sub-{i + 1:06d}/anat/f{k}", i, "image", "T1w", "0" * 64)
                    for i in range(rows)
                    for k in range(4)
                ],
            )
        load = time.perf_counter() - t
        filters = [parse_filter("sex=female"), parse_filter("age>70"), parse_filter("lesion_ml>10")]
        t = time.perf_counter()
        for _ in range(10):
            hits = m.count_where(filters)
        query = (time.perf_counter() - t) / 10
        t = time.perf_counter()
        m.subjects(filters)
        fetch = time.perf_counter() - t
        m.close()
        size = sum(p.stat().st_size for p in Path(tmp).glob("m.sqlite3*"))
        out["sqlite"] = {
            "load_s": round(load, 3),
            "query_ms": round(query * 1000, 2),
            "fetch_matching_rows_ms": round(fetch * 1000, 1),
            "bytes": size,
            "matches": hits,
        }
        # the per-subject insert the runner does (one transaction per subject)
        m2 = Manifest(Path(tmp) / "one.sqlite3")
        t = time.perf_counter()
        for i in range(200):
            m2.record(
                {
                    "row": {
                        "idx": i,
                        "participant_id": f"s{i}",
                        "seed": i,
                        "age": 50.0,
                        "sex": "female",
                        "pathology": "none",
                        "conditions": "{}",
                        "pathology_details": "{}",
                        "bytes": 0,
                    },
                    "files": [
                        {"path": f"s{i}/{k}", "kind": "image", "bytes": 0, "sha256": "0"}
                        for k in range(4)
                    ],
                }
            )
        out["sqlite"]["record_one_subject_ms"] = round((time.perf_counter() - t) / 200 * 1000, 2)
        m2.close()
        try:
            import duckdb
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            out["duckdb"] = "not installed (pip install duckdb pyarrow)"
            return out
        t = time.perf_counter()
        table = pa.table(
            {
                "idx": np.arange(rows),
                "age": age,
                "sex": sex,
                "pathology": path,
                "lesion_ml": lesion,
                "icv_ml": np.full(rows, 1400.0),
            }
        )
        pq.write_table(table, Path(tmp) / "s.parquet")
        files = pa.table(
            {
                "path": [f"sub-{i + 1:06d}/anat/f{k}" for i in range(rows) for k in range(4)],
                "idx": np.repeat(np.arange(rows), 4),
                "sha256": ["0" * 64] * (4 * rows),
            }
        )
        pq.write_table(files, Path(tmp) / "f.parquet")
        load = time.perf_counter() - t
        con = duckdb.connect()
        sql = (
            f"SELECT COUNT(*) FROM '{tmp}/s.parquet' "
            "WHERE sex = 'female' AND age > 70 AND lesion_ml > 10"
        )
        con.execute(sql).fetchone()
        t = time.perf_counter()
        for _ in range(10):
            dhits = con.execute(sql).fetchone()[0]
        dquery = (time.perf_counter() - t) / 10
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.parquet"))
        out["duckdb_parquet"] = {
            "load_s": round(load, 3),
            "query_ms": round(dquery * 1000, 2),
            "bytes": size,
            "matches": int(dhits),
            "duckdb": duckdb.__version__,
            "note": "Parquet is written once: one subject per commit would need a file each",
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m brainsynth.datasets bench", description=__doc__)
    p.add_argument("what", nargs="?", choices=("subjects", "writing", "db", "all"), default="all")
    p.add_argument("--models-dir", type=Path, default=Path("public/models"))
    p.add_argument("--subjects", type=int, default=3)
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    report: dict[str, Any] = {
        "budget": "100,000 subjects (1 mm, T1w + labels) in 7 h on one 16-core GPU machine "
        "= >= 3.97 subjects/s"
    }
    if args.what in ("db", "all"):
        report["db"] = _db()
        print(json.dumps({"db": report["db"]}, indent=1), flush=True)
    if args.what in ("writing", "all"):
        report["writing"] = _writing(args.models_dir)
        w = report["writing"]
        print(f"writing: fastest standard NIfTI (level >= 1): {w['fastest']}", flush=True)
        for r in w["choices"]:
            print(
                f"  {r['image_dtype']:7s} {r['compressor']:7s} level {r['level']}: "
                f"{r['seconds']:.3f} s/subject, "
                f"{r['input_MB_per_s']:.0f} MB/s, {r['bytes'] / MB:.1f} MB (x{r['ratio']})"
            )
        print(
            f"  int16 scaled: max error {w['int16_max_abs_error']} "
            f"({w['int16_error_over_range']:.1e} of the range)"
        )
        print(
            f"  compression in threads, subjects/s: {w['compress_subjects_per_s_by_threads']}",
            flush=True,
        )
    if args.what in ("subjects", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            s = _subjects(args.models_dir, args.subjects, Path(tmp) / "ds")
        report["subjects"] = s
        print(
            f"subjects: {s['subjects_per_hour']} subjects/h at 1 mm on {s['cpu_cores']} CPU cores "
            f"(budget {BUDGET_PER_S * 3600:,.0f}/h on the GPU machine); "
            f"per subject {s['stage_seconds']}",
            flush=True,
        )
    if "subjects" in report and "writing" in report:
        s, w = report["subjects"], report["writing"]
        cpu_write = (
            w["fastest"]["seconds"] + s["stage_seconds"]["write_s"] + s["stage_seconds"]["index_s"]
        )
        report["projection"] = {
            "cpu_seconds_per_subject_to_store": round(cpu_write, 3),
            "writer_cores_for_budget": round(cpu_write * BUDGET_PER_S, 1),
            "generation_cpu_seconds_per_subject_here": s["stage_seconds"]["generate_s"],
            "generation_cores_for_budget_on_cpu": round(
                s["stage_seconds"]["generate_s"] * BUDGET_PER_S, 1
            ),
            "note": "no GPU in this run: the generation time on a GPU is not measured here",
        }
        print(json.dumps({"projection": report["projection"]}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0
