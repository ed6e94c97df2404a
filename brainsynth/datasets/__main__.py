"""`python -m brainsynth.datasets <command>`: validate, subject, run, status, verify, query, qa,
bench. See docs/DATASETS.md."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from brainsynth.common.process import exit_with_parent
from brainsynth.datasets import bids
from brainsynth.datasets.derive import subject
from brainsynth.datasets.manifest import Manifest, QueryError, parse_filter
from brainsynth.datasets.runner import Dataset, Progress, summary, verify
from brainsynth.datasets.spec import SpecError, check_spec, load_spec_file, parse_text


class _Printer:
    """Progress with rate and ETA: one rewritten line on a terminal, a line every few
    seconds otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.done >= p.total or p.message == "complete"
        if self.tty:
            sys.stderr.write("\r" + p.line()[:120].ljust(120) + ("\n" if final else ""))
        elif final or now - self.last >= 5.0 or p.done == p.done_at_start:
            sys.stderr.write(p.line() + "\n")
            self.last = now
        sys.stderr.flush()


def _spec_from(args: argparse.Namespace) -> Any:
    if args.spec == "-":
        return check_spec(parse_text(sys.stdin.read()), args.models_dir)
    return load_spec_file(Path(args.spec), args.models_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brainsynth.datasets", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=Path("public/models"))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a spec (every reason listed)")
    p.add_argument("spec", help="spec file (.json, .yaml) or - for JSON on stdin")

    p = sub.add_parser("subject", help="print subject i's conditions and seed")
    p.add_argument("spec")
    p.add_argument("index", type=int, help="0-based")

    p = sub.add_parser("run", help="generate (or resume) a dataset")
    p.add_argument("spec")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    p.add_argument("--workers", type=int, help="local Ray cluster: worker processes")
    p.add_argument("--limit", type=int, help="make at most this many subjects now")
    p.add_argument("--device", help="the teacher's device: numpy, cpu, cuda (default auto)")
    p.add_argument("--image-dtype", choices=("float32", "int16"), default="float32")
    p.add_argument("--gzip-level", type=int, choices=range(0, 10), default=1)
    p.add_argument("--compressor", choices=("zlib", "isal", "zlib-ng"), default="zlib")
    p.add_argument("--keep-free-mb", type=float, default=500.0)
    p.add_argument("--parent-pid", type=int, help="stop when this process (a server) dies")
    _qa_arguments(p, None)

    for name, text in (("status", "progress of a dataset folder"), ("verify", "checksums")):
        p = sub.add_parser(name, help=text)
        p.add_argument("out", type=Path)

    p = sub.add_parser("query", help="subjects matching filters, e.g. 'sex=female' 'age>70'")
    p.add_argument("out", type=Path)
    p.add_argument("filters", nargs="*", help="column op value (op: = != < <= > >=)")
    p.add_argument("--columns", default="participant_id,age,sex,pathology,lesion_ml")
    p.add_argument("--files", action="store_true", help="list the matching subjects' files")
    p.add_argument("--count", action="store_true", help="only the number of matches")

    p = sub.add_parser("qa", help="(re)write the QA report of a dataset folder")
    p.add_argument("out", type=Path)
    _qa_arguments(p, Path("../shared/data"))

    p = sub.add_parser("bench", help="subjects/hour and the writing choices (bench.py)")
    p.add_argument("rest", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    from brainsynth.datasets.qa import Refused

    try:
        return _dispatch(args)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except SpecError as exc:
        for reason in exc.reasons:
            print(f"error: {reason}", file=sys.stderr)
        return 2
    except (QueryError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _qa_arguments(p: argparse.ArgumentParser, default_data: Path | None) -> None:
    where = (
        f"default $BRAINSYNTH_DATA, else {default_data}"
        if default_data
        else ("default $BRAINSYNTH_DATA; unset: not checked")
    )
    p.add_argument(
        "--data", type=Path, help=f"real-data folder for memorisation and realism ({where})"
    )
    p.add_argument("--memorisation-sample", type=int, default=12, help="subjects checked")
    p.add_argument("--realism-sample", type=int, default=8, help="T1w images measured")
    p.add_argument(
        "--refuse-memorised",
        action="store_true",
        help="exit 3 (after writing the report) when the memorisation check flags subjects",
    )
    p.set_defaults(default_data=default_data)


def _qa_options(args: argparse.Namespace) -> Any:
    from brainsynth.datasets.qa import QaOptions, default_data

    for name in ("memorisation_sample", "realism_sample"):
        if getattr(args, name) < 1:
            raise QueryError(f"--{name.replace('_', '-')} must be at least 1")
    return QaOptions(
        args.data or default_data() or args.default_data,
        args.memorisation_sample,
        args.realism_sample,
        args.refuse_memorised,
    )


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "validate":
        spec = _spec_from(args)
        print(json.dumps({"valid": True, "sha256": spec.digest, "spec": spec.raw}, indent=1))
        return 0
    if args.command == "subject":
        spec = _spec_from(args)
        s = subject(spec, args.index)
        print(
            json.dumps(
                {"participant_id": s.participant_id, "seed": s.seed, "conditions": s.conditions}
            )
        )
        return 0
    if args.command == "run":
        if args.parent_pid:
            exit_with_parent(args.parent_pid)
        spec = _spec_from(args)
        options = bids.WriteOptions(args.image_dtype, args.gzip_level, args.compressor)
        ds = Dataset(spec, args.out, args.models_dir, options, args.device)
        ds.qa_options = _qa_options(args)
        ds.prepare()
        prog = ds.run(
            args.backend, args.ray_address, args.workers, args.limit, _Printer(), args.keep_free_mb
        )
        return 0 if prog.done == spec.count or args.limit is not None else 1
    if args.command == "status":
        print(json.dumps(summary(args.out), indent=1))
        return 0
    if args.command == "verify":
        problems = verify(args.out)
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    if args.command == "query":
        manifest = Manifest(args.out / bids.MANIFEST_FILE)
        filters = [parse_filter(f) for f in args.filters]
        if args.count:
            print(manifest.count_where(filters))
            return 0
        rows = manifest.subjects(filters)
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        unknown = [c for c in columns if c not in manifest.columns()]
        if unknown:
            raise QueryError(f"unknown column(s) {unknown}")
        if args.files:
            wanted = {r["idx"] for r in rows}
            for f in manifest.files():
                if f["idx"] in wanted:
                    print(f"{f['path']}\t{f['sha256']}")
            return 0
        print("\t".join(columns))
        for r in rows:
            print("\t".join("n/a" if r[c] is None else str(r[c]) for c in columns))
        print(f"{len(rows)} subject(s)", file=sys.stderr)
        return 0
    if args.command == "qa":
        from brainsynth.datasets import qa

        manifest = Manifest(args.out / bids.MANIFEST_FILE)
        spec = check_spec(json.loads(manifest.get_meta("spec") or "{}"), args.models_dir)
        ds = Dataset(spec, args.out, args.models_dir)
        qa.write_report(
            args.out, spec, ds.model, manifest.subjects(), args.models_dir, _qa_options(args)
        )
        print(args.out / bids.QA_DIR / "report.html")
        return 0
    if args.command == "bench":
        import brainsynth.datasets.bench as bench

        return bench.main(args.rest)
    return 2


if __name__ == "__main__":
    sys.exit(main())
