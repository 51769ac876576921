"""A local stand-in for Twilio's REST API (real HTTP on 127.0.0.1): the Messages endpoint and MMS media."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from accueil.channels.voice.twilio import expected_signature
from tests.factories import DAVID_PHONE

TOKEN = "sms-auth-token"
OURS = "+33700000001"


def signed_post(http, server_url, path, params, token=TOKEN):
    return http.post(path, data=params, headers={"X-Twilio-Signature": expected_signature(token, server_url + path,
                                                                                          params)})


def sms(sid: str, body: str = "Bonjour, où en est ma commande ?", sender: str = DAVID_PHONE, **extra: str) -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC1", "From": sender, "To": OURS, "Body": body,
            "NumMedia": "0", **extra}


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@dataclass
class FakeTwilio:
    url: str = ""
    sent: list[dict] = field(default_factory=list)  # the form of each message posted
    auths: list[str] = field(default_factory=list)  # the Authorization header of each request
    media_fetches: int = 0
    refuse_with: int | None = None  # answer the next message with this 4xx code


def start_fake_twilio() -> tuple[FakeTwilio, ThreadingHTTPServer]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
            fake.auths.append(self.headers.get("Authorization", ""))
            if fake.refuse_with:
                code, fake.refuse_with = fake.refuse_with, None
                self._json(400, {"code": code, "message": "refused"})
                return
            fake.sent.append({"path": self.path, **form})
            self._json(201, {"sid": f"SM{len(fake.sent):032d}", "status": "queued"})

        def do_GET(self) -> None:  # noqa: N802
            fake.auths.append(self.headers.get("Authorization", ""))
            if self.path.startswith("/media/redirect"):
                self.send_response(307)
                self.send_header("Location", "/media/photo.png")
                self.end_headers()
                return
            if self.path.startswith("/media/"):
                fake.media_fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)
                return
            self.send_response(404)
            self.end_headers()

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    return fake, server
