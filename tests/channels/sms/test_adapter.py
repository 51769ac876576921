"""The SMS gateway adapter: what it declares, and that it refuses to send when not configured."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from accueil.channels.base import ChannelAdapter, OutboundMessage
from accueil.channels.sms.adapter import MAX_SMS, HttpSmsGateway
from accueil.conversations.models import ChannelKind


class _Gateway(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self) -> None:  # noqa: N802
        _Gateway.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_the_gateway_is_a_channel_adapter_that_cuts_at_ten_segments():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = HttpSmsGateway(url=f"http://127.0.0.1:{server.server_port}/", sender="MAISON")
        assert isinstance(gateway, ChannelAdapter) and gateway.kind is ChannelKind.sms and gateway.enabled
        assert gateway.capabilities.max_length == MAX_SMS and not gateway.capabilities.attachments
        gateway.send(OutboundMessage(to="+33612345678", text="x" * (MAX_SMS + 50)))
        assert _Gateway.bodies[-1] == {"to": "+33612345678", "text": "x" * MAX_SMS, "from": "MAISON"}
    finally:
        server.shutdown()


def test_an_unconfigured_gateway_refuses_to_send():
    with pytest.raises(RuntimeError, match="ACCUEIL_SMS_GATEWAY_URL"):
        HttpSmsGateway().send(OutboundMessage(to="+33612345678", text="t"))
