"""A hermetic package index for tests: tiny wheels built from text, served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import io
import ssl
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from packaging.utils import canonicalize_name


def make_wheel(dest: Path, name: str, version: str, *, requires: tuple[str, ...] = (),
               tag: str = "py3-none-any", body: str | None = None) -> Path:
    """Write a minimal valid wheel whose module `name` has VERSION and `body`."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}"
    files = {
        f"{module}/__init__.py": (body or "") + f"\nVERSION = {version!r}\n",
        f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
            zf.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
        record.append(f"{dist}.dist-info/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist}.dist-info/RECORD", (2020, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    out = dest / f"{dist}-{tag}.whl"
    out.write_bytes(buf.getvalue())
    return out


@dataclass
class LocalIndex:
    root: Path
    url: str = ""
    auth: tuple[str, str] | None = None  # basic-auth user and password every request must carry
    _server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def files(self) -> Path:
        return self.root / "files"

    def publish(self) -> None:
        """(Re)write the PEP 503 pages for every file in files/. Links are percent-encoded, as real indexes
        do (PyTorch's: torch-2.5.1%2Bcpu-...whl)."""
        by_name: dict[str, list[Path]] = {}
        for f in sorted(self.files.iterdir()):
            by_name.setdefault(canonicalize_name(f.name.split("-")[0]), []).append(f)
        simple = self.root / "simple"
        simple.mkdir(exist_ok=True)
        links = "".join(f'<a href="{n}/">{n}</a>\n' for n in by_name)
        (simple / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
        for name, paths in by_name.items():
            (simple / name).mkdir(exist_ok=True)
            rows = "".join(
                f'<a href="../../files/{quote(p.name)}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">'
                f"{html.escape(p.name)}</a>\n"
                for p in paths
            )
            (simple / name / "index.html").write_text(f"<html><body>\n{rows}</body></html>\n")

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        """Serve on 127.0.0.1; with `tls`, over HTTPS (a test CA's certificate for 127.0.0.1)."""
        root = str(self.root)
        expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode() if self.auth else None

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=root, **kwargs)  # type: ignore[arg-type]

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if expected and self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/simple"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
