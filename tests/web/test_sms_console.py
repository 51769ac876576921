"""The reply box of an SMS exchange: its size counted on the server (GSM-7 or UCS-2, parts, characters
left) with the same rules the browser's script applies as the agent types; a number that sent STOP is
shown as such, and a reply to it is refused with the reason."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from accueil.channels.sms.opt_out import do_keyword
from accueil.channels.sms.segments import GSM7_BASIC, GSM7_EXTENSION, count
from accueil.conversations.models import ChannelKind
from accueil.conversations.receive import do_receive_inbound
from accueil.core import clock
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from tests.factories import DAVID_PHONE, contact

APP_JS = Path(__file__).resolve().parents[2] / "src" / "accueil" / "web" / "static" / "app.js"


def _sms_case(runtime) -> str:
    with runtime.factory() as session, session.begin():
        return do_receive_inbound(session, contact=contact(
            ChannelKind.sms, identities=[IdentityRef(IdentityKind.phone, DAVID_PHONE)], body_text="Bonjour"),
            config=runtime.conversation_config, now=clock.now()).case_id


def test_the_reply_box_counts_the_sms_and_says_when_the_number_opted_out(web, runtime, cast):
    case_id = _sms_case(runtime)
    alice = web("alice")
    page = alice.get(f"/agent?case={case_id}").text
    assert 'data-count-for="reply-body"' in page
    assert "GSM-7 · 0 SMS · 160 caractères restants" in page
    assert "{encoding} · {segments} SMS · {remaining} caractères restants" in page  # the script's template
    assert "STOP" not in page
    with runtime.factory() as session, session.begin():
        do_keyword(session, keyword="stop", number=DAVID_PHONE, our_number=None, delivery_id="t:1", confirm=False,
                   now=clock.now())
    page = alice.get(f"/agent?case={case_id}").text
    assert "Ce numéro a demandé à ne plus recevoir de SMS (STOP)" in page
    assert "désinscrit des SMS (STOP) depuis le" in page
    refused = alice.post(f"/agent/cases/{case_id}/reply", {"body": "Toujours là ?"})
    assert refused.status_code == 409 and "ne plus recevoir de SMS sur ce numéro (STOP)" in refused.text
    noted = alice.post(f"/agent/cases/{case_id}/reply", {"body": "Appeler le client", "internal": "1"})
    assert noted.status_code == 200  # a note is never sent, so it is not refused


def test_an_email_exchange_has_no_sms_counter(web, runtime, cast):
    with runtime.factory() as session, session.begin():
        case_id = do_receive_inbound(session, contact=contact(), config=runtime.conversation_config,
                                     now=clock.now()).case_id
    assert "data-sms-template" not in web("alice").get(f"/agent?case={case_id}").text


NODE_HARNESS = """
const fs = require("fs");
global.window = {}; global.setInterval = () => 0;
global.document = { addEventListener() {}, querySelectorAll() { return []; }, documentElement: {} };
eval(fs.readFileSync(process.argv[1], "utf8"));
const texts = JSON.parse(fs.readFileSync(0, "utf8"));
console.log(JSON.stringify(texts.map(t => {
  const c = window.accueilSmsCount(t); return [c.encoding, c.units, c.segments, c.remaining, c.forced]; })));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="comparing the console's script needs node on PATH")
def test_the_consoles_script_counts_like_the_server():
    generator = random.Random(15)
    alphabet = sorted(GSM7_BASIC) + sorted(GSM7_EXTENSION) + list("êçœ«’🙂👍🏽")
    texts = ["", "a" * 160, "a" * 161, "€" * 81, "a" * 152 + "€" + "a" * 10, "ê" * 66 + "🙂" + "ê" * 3]
    texts += ["".join(generator.choice(alphabet) for _ in range(generator.randint(0, 400))) for _ in range(200)]
    texts += ["".join(generator.choice(sorted(GSM7_BASIC | GSM7_EXTENSION)) for _ in range(generator.randint(150, 500)))
              for _ in range(200)]
    done = subprocess.run(["node", "-e", NODE_HARNESS, str(APP_JS)], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=60, check=True)
    browser = json.loads(done.stdout)
    server = [[c.encoding, c.units, c.segments, c.remaining, list(c.non_gsm)] for c in map(count, texts)]
    assert browser == server
