"""slocompiler: compile SLI/SLO specs into Prometheus rules with burn-rate alerts."""

__version__ = "0.1.0"
