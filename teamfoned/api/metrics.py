"""The API counts its requests in the daemon's one metrics registry (teamfoned.metrics)."""

from __future__ import annotations

from teamfoned.metrics import Metrics

__all__ = ["Metrics"]
