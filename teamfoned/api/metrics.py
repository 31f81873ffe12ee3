"""The API's Prometheus metrics live in their own registry, so two apps in one process never clash."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("teamfoned_http_requests", "HTTP requests answered, by status",
                                ["method", "status"], registry=self.registry)
        self.duration = Histogram("teamfoned_http_request_duration_seconds",
                                  "Time to answer an HTTP request", registry=self.registry)

    def observe(self, method: str, status: int, seconds: float) -> None:
        # Method is bounded to the usual verbs so a client cannot mint label values.
        known = method if method in ("GET", "PUT", "PATCH", "POST", "DELETE", "HEAD") else "OTHER"
        self.requests.labels(known, str(status)).inc()
        self.duration.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
