"""Prometheus metrics, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SOCKETS_CONNECTED = Gauge("parley_sockets_connected", "Socket.IO connections on this node")
EVENTS_HANDLED = Counter("parley_events_total", "Socket.IO events handled", ["event", "outcome"])
EVENT_LATENCY = Histogram(
    "parley_event_seconds",
    "Time to handle a Socket.IO event",
    ["event"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_REQUESTS = Counter(
    "parley_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram("parley_http_seconds", "Time to answer an HTTP request", ["route"])
