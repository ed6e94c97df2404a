"""Print the backend's OpenAPI document (FastAPI's `app.openapi()`) as the repository keeps it.

The document is built with the server's default settings and the committed model catalogue
(`public/models`), with no `BRAINSYNTH_*` environment applied, so it is the same on every
machine. `npm run gen:api` writes it to `src/backend/openapi.json` and generates the TypeScript
types from it; `brainsynth/tests/test_openapi_current.py` checks the committed copy is current.

    .venv/bin/python scripts/dump_openapi.py            # the JSON on stdout
    .venv/bin/python scripts/dump_openapi.py --write    # into src/backend/openapi.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_JSON = ROOT / "src" / "backend" / "openapi.json"


def build_openapi() -> dict[str, Any]:
    """`app.openapi()` of an app on the default settings and the committed catalogue."""
    for name in [k for k in os.environ if k.startswith("BRAINSYNTH_")]:
        del os.environ[name]
    # this checkout's package, not whichever one the environment has installed
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from brainsynth.server.config import Settings
    from brainsynth.server.main import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(models_dir=ROOT / "public" / "models", data_dir=Path(tmp))
        return create_app(settings).openapi()


def render(doc: dict[str, Any]) -> str:
    """The committed text: 2-space JSON, keys in FastAPI's order, one final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    text = render(build_openapi())
    if "--write" in argv:
        OPENAPI_JSON.write_text(text, encoding="utf-8")
        print(f"wrote {OPENAPI_JSON.relative_to(ROOT)}", file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
