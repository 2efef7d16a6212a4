"""The y-axis unit guessed from a PromQL expression."""

from __future__ import annotations

import pytest

from widgets.chart import format_value, unit_for_metric

CASES = [
    ("histogram_quantile(0.99, sum by (le) (rate(seldon_api_executor_server_requests_seconds_bucket[5m])))",
     "seconds"),
    ("sum by (le) (rate(seldon_api_executor_server_requests_seconds_bucket[1m]))", ""),  # counts per bucket
    ("rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])", "seconds"),
    ("sum(rate(resp_size_bytes_sum[1m])) / sum(rate(resp_size_bytes_count[1m]))", "bytes"),
    ("rate(a_sum[1m]) / rate(b_seconds_count[1m])", ""),  # not one histogram's mean
    ("rate(http_request_duration_seconds_count[1m])", ""),  # requests per second
    ("rate(process_cpu_seconds_total[1m])", "seconds"),
    ("http_request_duration_seconds", "seconds"),
    ("node_memory_MemFree_bytes", "bytes"),
    ("up", ""),
]


@pytest.mark.parametrize(("query", "unit"), CASES, ids=[c[0][:40] for c in CASES])
def test_unit_for_metric(query, unit):
    assert unit_for_metric(query) == unit


def test_a_quantile_is_labelled_as_a_duration():
    query = CASES[0][0]
    assert format_value(0.25, unit_for_metric(query)) == "250ms"
    assert format_value(0.25, unit_for_metric(CASES[1][0])) == "0.25"
