"""Generate stage: the model becomes plain output data (rule groups, later dashboards, tests, docs)."""
