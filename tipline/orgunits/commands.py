"""Commands of this package (to be filled)."""

from typing import Any


def register(commands: Any) -> None:
    """Add this package's sub-commands."""
