"""What the hotline refuses; each maps to a 4xx with a message in both languages."""

from __future__ import annotations

from tipline.errors import Invalid, NotFound


class UnknownChannel(Invalid):
    """An officer enters only phone, letter or visit tips; web tips come through the box."""

    message_key = "hotline.error.unknown_channel"


class NoTranscript(NotFound):
    """The tip came through the web tip box: the tipster wrote it, there is no transcript."""

    message_key = "hotline.error.no_transcript"


class TipNotFound(NotFound):
    message_key = "hotline.error.not_found"
