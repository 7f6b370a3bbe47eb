"""``python -m repose_tf.serve``: serve the browser demo (``web_demo/``) and the models (``models/``).

    python -m repose_tf.serve                 # http://127.0.0.1:8000/
    python -m repose_tf.serve --port 0        # any free port; the URL is printed

Static files only, on 127.0.0.1 by default: ``/`` is ``web_demo/`` (the page and the LiteRT.js
runtime that ``npm ci`` vendors into ``web_demo/vendor/``), ``/models/`` the model directory
(``.tflite`` files and their JSON sidecars). Nothing is fetched from outside the machine. A
missing runtime or model gives a one-line error naming the command that fixes it.

Every response carries the cross-origin isolation headers (``ISOLATION_HEADERS``: COOP
``same-origin``, COEP ``require-corp``): without them the browser withholds ``SharedArrayBuffer``
and the page can only run LiteRT.js's single-threaded wasm build. A server other than this one
must send the same two headers for the page's threads to work (``?threads=off`` runs without).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from repose_tf.cli import refuse

REPO = Path(__file__).resolve().parents[1]
WEB_DIR = REPO / "web_demo"
MODELS_DIR = REPO / "models"
#: The model files the page offers (its float16 / int8 switch), by stem.
MODEL_STEMS = ("repose_lsp14_float16", "repose_lsp14_int8")
RUNTIME_FILES = (
    "vendor/litertjs/core/index.js",
    "vendor/litertjs/wasm-utils/index.js",
    "vendor/litertjs/wasm",
)
#: Sent with every response: they make the page cross-origin isolated (``crossOriginIsolated``),
#: which is what unlocks ``SharedArrayBuffer`` and so LiteRT.js's threaded wasm runtime. The page
#: loads nothing from other origins, so ``require-corp`` costs nothing; ``same-origin`` resource
#: policy lets each file be embedded by this page (and only same-origin pages).
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SHIP_HINT = "python tools/ship_model.py --checkpoint runs/lspet/checkpoint.keras"
NPM_HINT = "cd web_demo && npm ci"


class ServeError(RuntimeError):
    """An expected set-up problem (one line, printed without a traceback)."""


def check_web_dir(web_dir: Path) -> None:
    if not (web_dir / "index.html").is_file():
        raise ServeError(f"{web_dir}/index.html not found: is this a RePose-TF checkout?")
    if not (web_dir / "node_modules" / "@litertjs" / "core").is_dir():
        raise ServeError(f"{web_dir}/node_modules is missing (the LiteRT.js runtime); run: {NPM_HINT}")
    for rel in RUNTIME_FILES:
        if not (web_dir / rel).exists():
            raise ServeError(f"{web_dir / rel} is missing (the vendored LiteRT.js runtime); run: {NPM_HINT}")


def check_models(models_dir: Path) -> list[str]:
    """The model stems present (``.tflite`` + ``.json``); raises when none is, warns per missing one."""
    present, missing = [], []
    for stem in MODEL_STEMS:
        files = [models_dir / f"{stem}.tflite", models_dir / f"{stem}.json"]
        (present if all(f.is_file() for f in files) else missing).append(stem)
    if not present:
        raise ServeError(
            f"model missing: {models_dir / MODEL_STEMS[0]}.tflite (and its .json); run: {SHIP_HINT}"
        )
    for stem in missing:
        print(
            f"warning: {models_dir / stem}.tflite/.json missing: the page cannot switch to it ({SHIP_HINT})"
        )
    return present


class DemoHandler(http.server.SimpleHTTPRequestHandler):
    """``/models/*`` from the models directory, everything else from ``web_demo/``."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".tflite": "application/octet-stream",
    }

    def __init__(self, *args, web_dir: Path, models_dir: Path, verbose: bool = False, **kwargs):
        self.web_dir, self.models_dir, self.verbose = web_dir, models_dir, verbose
        super().__init__(*args, directory=str(web_dir), **kwargs)

    def translate_path(self, path: str) -> str:
        parts = [p for p in unquote(urlsplit(path).path).split("/") if p and p not in (".", "..")]
        if parts and parts[0] == "models":
            return str(self.models_dir.joinpath(*parts[1:]))
        if parts and parts[0] == "node_modules":
            return str(self.web_dir / "__not_served__")
        return str(self.web_dir.joinpath(*parts)) if parts else str(self.web_dir)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if self.verbose:
            super().log_message(format, *args)


def make_server(host: str, port: int, web_dir: Path, models_dir: Path, verbose: bool = False):
    handler = functools.partial(DemoHandler, web_dir=web_dir, models_dir=models_dir, verbose=verbose)
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}; try another --port") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m repose_tf.serve",
        description=(
            "Serve the RePose-TF browser demo (web_demo/) and the models (models/) as static files "
            "on this machine and print the URL. Needs the LiteRT.js runtime (run: cd web_demo && npm ci) "
            "and the shipped model files (models/repose_lsp14_{float16,int8}.tflite + .json)."
        ),
    )
    ap.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    ap.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    ap.add_argument("--models", type=Path, default=MODELS_DIR, help=f"model directory (default {MODELS_DIR})")
    ap.add_argument("--web", type=Path, default=WEB_DIR, help=argparse.SUPPRESS)
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args(argv)
    try:
        check_web_dir(args.web.resolve())
        if (args.models / "manifest.json").is_file():
            # a fresh clone has the release's committed files only: make the derived float16 model
            from repose_tf.export import ExportError
            from repose_tf.export.package import missing_derived, regenerate_derived

            if missing_derived(args.models):
                try:
                    regenerate_derived(args.models.resolve())
                except ExportError as e:
                    raise ServeError(str(e)) from None
        check_models(args.models.resolve())
        server = make_server(args.host, args.port, args.web.resolve(), args.models.resolve(), args.verbose)
    except ServeError as e:
        return refuse(e)
    host, port = server.server_address[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = f"http://{shown}:{port}/"
    print(f"RePose web demo: {url}  (serving {args.web} and {args.models}; Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
