"""Read Parley's /metrics the way Prometheus does."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.clients import Api


async def sample(api: Api, name: str, **labels: str) -> float:
    """The value of one sample (0 when it does not exist yet)."""
    status, text = await api.get("/metrics")
    assert status == 200
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0
