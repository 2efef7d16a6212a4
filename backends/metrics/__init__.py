"""The Metrics pane's backends: the contract (``contract.py``), Prometheus (``prometheus.py``), dashboard files
(``dashboards.py``, the built-in ones in ``builtin_dashboards/``) and the in-memory ``fake``.

The contract's names are importable from here too (``from backends.metrics import ...``); importing this
package imports nothing else.
"""

from backends.metrics.contract import (
    WINDOWS as WINDOWS,
    Alert as Alert,
    InstantResult as InstantResult,
    InstantSample as InstantSample,
    Labelled as Labelled,
    Labels as Labels,
    MetricsSource as MetricsSource,
    RangeResult as RangeResult,
    Series as Series,
    Target as Target,
    labels_of as labels_of,
    legend_names as legend_names,
    step_for as step_for,
)
