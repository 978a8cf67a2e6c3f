"""Generate stage: the model becomes plain output data (rule groups, later dashboards, tests, docs)."""


def by_service(units) -> "dict[str, list]":
    """Service -> its (SLO, spec file) pairs in tree order, services sorted: what the per-service
    outputs (dashboards, catalog pages) are built from."""
    found: dict[str, list] = {}
    for unit in units:
        for slo in unit.slos:
            found.setdefault(slo.service, []).append((slo, unit.relpath))
    return {service: found[service] for service in sorted(found)}


def tree_files(units, per_service, from_summaries, version: str) -> "dict[str, bytes]":
    """Every service's files (`per_service(service, entries, version)` -> files, summary) and the
    files built from all summaries (`from_summaries(summaries, version)`), in one process."""
    out: dict[str, bytes] = {}
    summaries = {}
    for service, entries in by_service(units).items():
        files, summaries[service] = per_service(service, entries, version)
        out.update(files)
    out.update(from_summaries(summaries, version))
    return out
