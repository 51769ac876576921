"""The visitor → server frames of the chat WebSocket (plain JSON with a ``type``), and error texts.

Server → visitor frames: ``started`` (chat id, resume token), ``ack`` (the visitor's message id and its
number), ``message`` (a numbered line: customer, agent or system), ``typing``, ``queue`` (place and
estimated wait), ``agent_joined``, ``agent_left``, ``unavailable`` (queue closed), ``ended`` (the agent
or the case ended the chat), ``closed`` (the visitor closed it), ``resumed``, ``transcript_queued``,
``callback_scheduled`` and ``error`` (code, message in the visitor's language, the frame's id if any).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Start(_Frame):
    """The pre-chat form and the visitor's first line."""

    type: Literal["start"]
    id: ClientId
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    motif: str | None = Field(default=None, max_length=60)
    text: str
    language: Literal["fr", "en"] | None = None


class Resume(_Frame):
    type: Literal["resume"]
    token: str = Field(min_length=10, max_length=200)
    last_seq: int = Field(ge=0)


class Message(_Frame):
    type: Literal["message"]
    id: ClientId
    text: str


class Typing(_Frame):
    type: Literal["typing"]


class Transcript(_Frame):
    type: Literal["transcript"]


class CallbackRequest(_Frame):
    """"Call me back": during a chat, or instead of one (then a name is needed)."""

    type: Literal["callback"]
    phone: str = Field(min_length=3, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)


class Close(_Frame):
    type: Literal["close"]


FRAMES: TypeAdapter[Any] = TypeAdapter(Annotated[
    Start | Resume | Message | Typing | Transcript | CallbackRequest | Close, Field(discriminator="type")])


class ChatError(Exception):
    """A refusal told to the visitor in an error frame (the socket stays open)."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code, self.details = code, details
