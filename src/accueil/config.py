"""Settings, read from ``ACCUEIL_*`` environment variables (and an optional ``.env`` file).

Every field here is documented in docs/settings.md; a test fails when one is missing there.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accueil.core.calendar import (
    BusinessCalendar,
    CalendarError,
    check_country,
    parse_dates,
    parse_delay,
    parse_week,
)

DEVELOPMENT_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCUEIL_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = DEVELOPMENT_SECRET
    database_url: str = ""
    redis_url: str = ""
    data_dir: Path = Path("var")
    timezone: str = "Europe/Paris"
    default_language: Literal["fr", "en"] = "fr"
    auto_migrate: bool = True
    run_jobs_in_process: bool = True
    dispatch_in_process: bool = True
    dispatch_poll_seconds: float = Field(default=1.0, gt=0)
    max_body_chars: int = Field(default=100_000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_attachments: int = Field(default=10, ge=0)
    allowed_attachment_types: str = (
        "application/pdf,image/png,image/jpeg,image/gif,image/webp,image/tiff,text/plain,text/csv,"
        "application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
        "application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
        "audio/mpeg,audio/wav,message/rfc822"
    )
    repeat_contact_window_days: int = Field(default=7, ge=0)
    short_abandon_seconds: float = Field(default=5.0, ge=0)
    public_url: str = ""
    twilio_auth_token: str = ""
    twilio_queue: str = "tel_n1"
    twilio_account_sid: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    cti_command_url: str = ""
    cti_command_token: str = ""
    default_phone_region: str = "FR"
    job_poll_seconds: float = Field(default=1.0, gt=0)
    web_session_hours: float = Field(default=12.0, gt=0)
    web_cookie_secure: bool = False
    demo_live_traffic: bool = False
    demo_contacts_per_minute: float = Field(default=4.0, gt=0, le=600)
    # --- customer notifications (channels/notify.py) ---
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "accueil <noreply@localhost>"
    mail_dkim_selector: str = ""  # DKIM: the selector published in DNS (<selector>._domainkey.<domain>)
    mail_dkim_key_file: str = ""  # and the PEM private key file: outgoing mail is then signed
    mail_outbox_maildir: str = ""  # no SMTP server: outgoing mail lands in this Maildir (the demo's outbox)
    # --- inbound email (channels/email): the SMTP listener of ``accueil mail serve`` ---
    mail_listen_host: str = "127.0.0.1"
    mail_listen_port: int = Field(default=2525, ge=1, le=65535)
    mail_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)  # larger mails are refused (552)
    mail_max_recipients: int = Field(default=100, ge=1)  # of ours, per mail (452 beyond)
    mail_tls_cert: str = ""  # PEM files: STARTTLS is offered when both are set
    mail_tls_key: str = ""
    mail_in_process: bool = False  # ``accueil serve`` also runs the SMTP listener
    mail_read_at_once: bool = True  # the listener reads each mail right after storing it (else: the job runner)
    # --- scanned letters (channels/letter): the mailroom, the OCR and the printed replies ---
    letter_ocr_languages: str = Field(default="fra+eng", pattern=r"^[a-z_]{3,}(\+[a-z_]{3,})*$")
    letter_max_pages: int = Field(default=20, ge=1, le=500)  # pages read per letter (the rest: a warning)
    letter_default_motif: str = ""  # the motif and queue of a letter uploaded without one
    letter_default_queue: str = ""
    letter_company_name: str = "accueil"  # the letterhead of printed replies
    letter_company_address: str = ""  # its lines, separated by " / " (its postcode is never a sender's)
    letter_company_city: str = ""  # "Paris, le 7 décembre 2026"
    # --- text messages (channels/sms): gateways, webhooks, senders, keywords ---
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_sender: str = ""
    sms_senders: str = ""  # per queue ("brand"): "queue=sender,queue=sender"; inbound to a sender goes to its queue
    sms_queue: str = "messagerie"  # where an inbound SMS waits when its number names no queue
    sms_motif: str = ""  # the motif of a case an SMS opens (empty: none)
    sms_webhook_secret: str = ""  # the generic JSON webhooks' HMAC-SHA256 key (empty: refused)
    sms_fetch_media: bool = True  # MMS media fetched from the provider's own host (never elsewhere)
    sms_confirm_keywords: bool = True  # STOP / START answered by one confirmation SMS
    sms_outbox_dir: str = ""  # no gateway: SMS sent are written here as JSON (the demo's)
    # --- WhatsApp Business, Meta's Cloud API (channels/whatsapp, docs/channels.md) ---
    whatsapp_app_secret: str = ""  # signs every webhook (X-Hub-Signature-256); empty: every delivery refused
    whatsapp_verify_token: str = ""  # echoed in Meta's subscription handshake (GET /webhooks/whatsapp)
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"  # the Graph API: messages out, media in
    whatsapp_access_token: str = ""
    whatsapp_phone_number_id: str = ""  # the business number messages leave from
    whatsapp_media_hosts: str = "lookaside.fbsbx.com"  # where media downloads may go, besides the API's host
    whatsapp_outbox_dir: str = ""  # no access token: messages sent are written here as JSON (the demo's)
    whatsapp_queue: str = "whatsapp"  # the queue and motif of a customer's new WhatsApp conversation
    whatsapp_motif: str = ""
    # --- web chat (channels/chat) ---
    chat_queue: str = "chat"
    help_phone_number: str = ""  # the customer-service number the help centre shows (a tel: link; empty: none)
    chat_max_message_chars: int = Field(default=2000, ge=1, le=100_000)
    chat_rate_messages: int = Field(default=10, ge=1)
    chat_rate_seconds: float = Field(default=10.0, gt=0)
    chat_allowed_origins: str = ""
    chat_starts_per_address: int = Field(default=20, ge=1)
    # --- agency visits and appointments (channels/visit) ---
    appointment_reminder_hours: float = Field(default=24.0, ge=0)
    portal_booking_rate: int = Field(default=20, ge=1)
    portal_booking_rate_minutes: float = Field(default=60.0, gt=0)
    # --- callbacks (channels/callback) ---
    callback_max_attempts: int = Field(default=3, ge=1, le=20)
    callback_retry_windows: str = Field(default="09:00-11:00,12:00-14:00,17:00-19:00",
                                        pattern=r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}(\s*,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*\s*$")
    callback_request_rate: int = Field(default=5, ge=1)
    callback_request_rate_minutes: float = Field(default=10.0, gt=0)
    # --- reply delays of written channels (conversations/reply_targets.py, docs/channels.md) ---
    reply_target_email: str = "1h"  # business time: 90min, 1h, 5d (business days); empty = no target
    reply_target_webform: str = "1h"
    reply_target_letter: str = "5d"
    written_opening_hours: str = "mon-fri 09:00-18:00"  # the hours reply delays are counted in
    written_holidays_country: str = "FR"  # public holidays not counted; empty = counted like any day
    written_closed_dates: str = ""  # extra closed days, ISO dates separated by commas

    @field_validator("reply_target_email", "reply_target_webform", "reply_target_letter")
    @classmethod
    def _reply_target(cls, text: str) -> str:
        return str(parse_delay(text)) if text.strip() else ""

    @field_validator("sms_senders")
    @classmethod
    def _sms_senders(cls, text: str) -> str:
        parse_sms_senders(text)
        return text

    @property
    def sms_sender_map(self) -> dict[str, str]:
        """Queue code -> the sender id (number or name) its SMS leave from (ACCUEIL_SMS_SENDERS)."""
        return parse_sms_senders(self.sms_senders)

    @field_validator("written_opening_hours")
    @classmethod
    def _written_hours(cls, text: str) -> str:
        parse_week(text)
        return text

    @field_validator("written_holidays_country")
    @classmethod
    def _written_country(cls, text: str) -> str:
        return check_country(text) if text.strip() else ""

    @field_validator("written_closed_dates")
    @classmethod
    def _written_dates(cls, text: str) -> str:
        parse_dates(text)
        return text

    def written_calendar(self) -> BusinessCalendar:
        """The business calendar written work is counted in (reply delays)."""
        return BusinessCalendar.from_text(self.written_opening_hours, timezone=self.timezone,
                                          holidays_country=self.written_holidays_country or None,
                                          closed_dates=self.written_closed_dates)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        try:
            self.written_calendar()
        except CalendarError as exc:  # e.g. an unknown ACCUEIL_TIMEZONE
            raise ValueError(f"written-work calendar: {exc}") from exc
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "ACCUEIL_SECRET_KEY must be set to a long random value outside development "
                f"(ACCUEIL_ENVIRONMENT={self.environment})."
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("ACCUEIL_SECRET_KEY must be at least 32 characters in production.")
        if self.environment == "production" and not self.public_url:
            # Links sent to customers (cancel an appointment) must not be built from a request's Host header.
            raise ValueError("ACCUEIL_PUBLIC_URL must be set in production (e.g. https://crc.example.fr).")
        return self

    @property
    def effective_database_url(self) -> str:
        """SQLite file under the data directory unless a URL is given."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'accueil.sqlite3').as_posix()}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def mail_dir(self) -> Path:
        """Raw mails as received (``mail_inbox``), before and after they are read."""
        return self.data_dir / "mail"

    @property
    def letters_dir(self) -> Path:
        """Scanned letters as uploaded, and their previews."""
        return self.data_dir / "letters"

    @property
    def attachment_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.allowed_attachment_types.split(",") if t.strip())


def parse_sms_senders(text: str) -> dict[str, str]:
    """``"sms_marque_a=+33700000001, sms_marque_b=MARQUEB"`` -> {queue code: sender}."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (text or "").split(","))):
        queue, sep, sender = (part.strip() for part in pair.partition("="))
        if not sep or not queue or not sender:
            raise ValueError(f"ACCUEIL_SMS_SENDERS: {pair!r} is not queue=sender")
        if sender in found.values():
            raise ValueError(f"ACCUEIL_SMS_SENDERS: {sender!r} is given to two queues")
        found[queue] = sender
    return found


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
