"""Metrics engine: pure functions over a validated :class:`tsdash.dataset.Dataset`."""

from tsdash.metrics.filters import Filter

__all__ = ["Filter"]
