"""Generate stage: the model becomes plain output data (rule groups, later dashboards, tests, docs)."""


def by_service(units) -> "dict[str, list]":
    """Service -> its (SLO, spec file) pairs in tree order, services sorted: what the per-service
    outputs (dashboards, catalog pages) are built from."""
    found: dict[str, list] = {}
    for unit in units:
        for slo in unit.slos:
            found.setdefault(slo.service, []).append((slo, unit.relpath))
    return {service: found[service] for service in sorted(found)}
