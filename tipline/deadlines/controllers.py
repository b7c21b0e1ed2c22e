"""Routes of this package (to be filled)."""

from typing import Any

route_handlers: list[Any] = []
