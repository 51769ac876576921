"""A local stand-in for Meta's Graph API over real HTTP: records what it is sent, answers like Meta."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GraphServer:
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media id -> (bytes, content type)
    media_urls: dict[str, str] = field(default_factory=dict)  # media id -> the URL to answer (else ours)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_sends: int = 0

    def start(self) -> GraphServer:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                graph.requests.append({"method": "POST", "path": self.path, "json": data,
                                       "authorization": self.headers.get("Authorization")})
                if graph.fail_sends:
                    graph.fail_sends -= 1
                    self._reply(503, b'{"error": {"message": "try later"}}')
                    return
                wamid = f"wamid.TEST{len(graph.requests):04d}"
                self._reply(200, json.dumps({"messaging_product": "whatsapp",
                                             "contacts": [{"input": data.get("to"), "wa_id": data.get("to")}],
                                             "messages": [{"id": wamid}]}).encode())

            def do_GET(self) -> None:  # noqa: N802
                graph.requests.append({"method": "GET", "path": self.path,
                                       "authorization": self.headers.get("Authorization")})
                key = self.path.strip("/")
                if key.startswith("media/") and key[6:] in graph.media:
                    data, content_type = graph.media[key[6:]]
                    self._reply(200, data, content_type)
                elif key in graph.media:
                    data, content_type = graph.media[key]
                    url = graph.media_urls.get(key, f"{graph.url}/media/{key}")
                    self._reply(200, json.dumps({"url": url, "mime_type": content_type, "file_size": len(data),
                                                 "id": key, "messaging_product": "whatsapp"}).encode())
                else:
                    self._reply(404, b'{"error": {"message": "unknown"}}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sent(self) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if r["method"] == "POST"]
