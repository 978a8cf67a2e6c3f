"""Talking to a live Prometheus (or Thanos, Mimir, Grafana Cloud): the read-only HTTP client and
its settings (`client.py`, `settings.py`), progress lines (`progress.py`), the checks of specs
against the real series (`check.py`, `selectors.py`) and the attainment report (`attainment.py`,
`render.py`). Only the HTTP API is used (`/api/v1/query`, `query_range`, `series`, `labels`,
`metadata`); nothing is ever written to the server."""
