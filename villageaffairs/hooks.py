"""Hooks a village-affairs package runs when one village's records change.

A package that keeps records (notice boards, supervisory committees, village rules)
declares a :class:`VillageHooks` and awaits :meth:`VillageHooks.changed` inside the
write transaction that changed a village's record; a package that derives something
from those records (``campaigns``: each village's task status) registers a hook with
:meth:`VillageHooks.register`. So the records never import what is derived from them
(docs/ARCHITECTURE.md: registration instead of an import cycle), and what a hook
writes commits or rolls back with the change that caused it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

VillageHook = Callable[[int], Awaitable[None]]
"""``hook(village_id)``, awaited inside the write transaction of the change."""


class VillageHooks:
    """The hooks of one kind of record, run in the order they were registered."""

    def __init__(self, record: str) -> None:
        self.record = record
        self._hooks: list[VillageHook] = []

    def register(self, hook: VillageHook) -> VillageHook:
        """Run ``hook`` on every change of this kind of record (registering twice is
        harmless)."""
        if hook not in self._hooks:
            self._hooks.append(hook)
        return hook

    async def changed(self, village_id: int) -> None:
        """A record of ``village_id`` changed: run every hook."""
        for hook in self._hooks:
            await hook(village_id)
