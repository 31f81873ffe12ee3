"""Every Prometheus metric of one daemon lives in one registry: calls, attempts, ARI, database and HTTP.

The registry is per Metrics object, never the global default, so two daemons (or two API
apps) in one test process never clash and /metrics shows exactly this daemon's numbers.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Callers wait seconds to a few minutes (max_wait is at most an hour).
WAIT_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
# A leg rings from a moment (busy, refused) to the team's ring time (at most 300 s).
RING_BUCKETS = (0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 120, 300)
HTTP_METHODS = ("GET", "PUT", "PATCH", "POST", "DELETE", "HEAD")


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.calls = Counter("teamfoned_calls", "Calls finished, by outcome", ["outcome"], registry=r)
        self.attempts = Counter("teamfoned_attempts", "Attempts (member legs) ended, by result",
                                ["result"], registry=r)
        self.calls_in_progress = Gauge("teamfoned_calls_in_progress",
                                       "Calls this daemon is routing or has bridged", registry=r)
        self.wait_seconds = Histogram("teamfoned_call_wait_seconds",
                                      "Caller's wait until answered or sent to the fallback",
                                      buckets=WAIT_BUCKETS, registry=r)
        self.ring_seconds = Histogram("teamfoned_attempt_ring_seconds",
                                      "How long a member's phone rang before it was answered or ended",
                                      buckets=RING_BUCKETS, registry=r)
        self.callers_waiting = Gauge("teamfoned_callers_waiting",
                                     "Callers of this daemon in a team's waiting line", registry=r)
        self.line_seconds = Histogram("teamfoned_line_wait_seconds",
                                      "Time a caller spent in the waiting line, until answered, "
                                      "sent to the fallback or hung up",
                                      buckets=WAIT_BUCKETS, registry=r)
        self.ari_reconnects = Counter("teamfoned_ari_reconnects",
                                      "ARI event connections re-established after a loss", registry=r)
        self.database_errors = Counter("teamfoned_database_errors",
                                       "Errors raised by the database driver", registry=r)
        self.drained_calls = Counter("teamfoned_calls_ended_by_shutdown",
                                     "Calls still running when the drain limit passed", registry=r)
        self.requests = Counter("teamfoned_http_requests", "HTTP requests answered, by status",
                                ["method", "status"], registry=r)
        self.duration = Histogram("teamfoned_http_request_duration_seconds",
                                  "Time to answer an HTTP request", registry=r)

    # -- HTTP (the API's access log middleware calls this) -------------------------------

    def observe(self, method: str, status: int, seconds: float) -> None:
        # Method is bounded to the usual verbs so a client cannot mint label values.
        known = method if method in HTTP_METHODS else "OTHER"
        self.requests.labels(known, str(status)).inc()
        self.duration.observe(seconds)

    # -- calls (the call runner calls these) ---------------------------------------------

    def call_finished(self, outcome: str, wait_seconds: float | None) -> None:
        self.calls.labels(outcome).inc()
        if wait_seconds is not None:
            self.wait_seconds.observe(wait_seconds)

    def attempt_ended(self, result: str, ring_seconds: float | None) -> None:
        self.attempts.labels(result).inc()
        if ring_seconds is not None:
            self.ring_seconds.observe(ring_seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
