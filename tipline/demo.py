"""``tipline demo``: a demo county a newcomer can click through (to be filled)."""

from typing import Any


def register(commands: Any) -> None:
    """Add the ``demo`` sub-command."""
