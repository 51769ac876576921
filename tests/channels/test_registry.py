"""The channel seam: the registry builds a runtime's adapters from its settings; its sessions carry them."""

from __future__ import annotations

from accueil.channels import notify, registry
from accueil.channels.base import ChannelAdapter, ChannelAdapters, channels_of
from accueil.channels.email.adapter import SmtpEmail
from accueil.config import Settings
from accueil.conversations.models import ChannelKind


def _settings(**values) -> Settings:
    return Settings(environment="test", secret_key="s" * 40, **values)


def test_adapters_follow_the_settings():
    bare = registry.build_adapters(_settings())
    assert bare.get(ChannelKind.email) is None and bare.get(ChannelKind.sms) is None
    assert bare.get(ChannelKind.voice) is None
    full = registry.build_adapters(_settings(smtp_host="mail.example.fr", sms_gateway_url="http://sms.example.fr",
                                             twilio_account_sid="AC1", twilio_auth_token="t",
                                             public_url="https://accueil.example.fr"))
    for kind, name in ((ChannelKind.email, "smtp"), (ChannelKind.sms, "gateway"), (ChannelKind.voice, "twilio")):
        adapter = full.get(kind)
        assert isinstance(adapter, ChannelAdapter) and adapter.name == name and adapter.kind is kind
    assert full.get(ChannelKind.voice, "generic") is None  # no PBX command URL configured


def test_each_channel_is_listed_once_and_its_job_handlers_are_known():
    kinds = [channel.kind for channel in registry.CHANNELS]
    assert len(kinds) == len(set(kinds))
    assert notify in registry.job_modules()
    assert all(kind.synchronous == (kind in {ChannelKind.voice, ChannelKind.callback, ChannelKind.chat,
                                             ChannelKind.visit}) for kind in kinds)


def test_a_runtimes_sessions_carry_its_own_adapters(runtime):
    with runtime.factory() as session:
        assert channels_of(session) is runtime.channels
    with runtime.read_factory() as session:
        assert channels_of(session) is runtime.channels
    restore = runtime.channels.swap(ChannelKind.email, SmtpEmail(host="127.0.0.1", port=2525))
    try:
        with runtime.factory() as session:
            assert notify.email_adapter(session).port == 2525
    finally:
        restore()
    other = ChannelAdapters()
    assert other.get(ChannelKind.email) is None
