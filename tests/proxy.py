"""A forward HTTP proxy on 127.0.0.1 for tests: plain GETs in absolute form and CONNECT tunnels, each
request logged, so a test can see that the builder's traffic went through it."""

from __future__ import annotations

import http.server
import select
import socket
import threading
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Proxy:
    seen: list[str] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> str:
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append(f"GET {self.path}")
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from here on
                with opener.open(urllib.request.Request(self.path, headers=dict(self.headers)), timeout=30) as up:
                    body = up.read()
                    self.send_response(up.status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def do_CONNECT(self) -> None:  # noqa: N802
                seen.append(f"CONNECT {self.path}")
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=30)
                self.send_response(200, "Connection established")
                self.end_headers()
                sockets = [self.connection, upstream]
                while True:
                    ready, _, _ = select.select(sockets, [], [], 30)
                    if not ready:
                        break
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if sock is self.connection else self.connection).sendall(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
