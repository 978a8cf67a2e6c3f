"""Alertmanager routing from the config's `routing:` section (docs/routing.md).

Two files under OUT/alertmanager/:

- `routes.yaml`: the SLO route subtree (`routes:`, one route to paste first under your own
  `route.routes`) and the `inhibit_rules:` to add to yours;
- `alertmanager.yaml`: a complete configuration around them (the subtree as the root's only
  child route, every named receiver, empty unless `routing.receivers` gives its body), which
  `amtool check-config` accepts and a test Alertmanager runs as is.

Routes match the labels every generated alert carries (conventions.py): the tier
(`sloth_severity`: page|ticket), the SLO id (`sloth_id`), the no-data marker
(`slo_alert="no_data"`), and whatever `routing.routes[].match` names (team, `sloth_owner`,
`sloth_tier`, `severity`, ...). Inhibit rules: a firing page mutes the ticket of the same SLO,
and a firing no-data alert mutes the burn alerts of the SLO it leaves unmeasured.
"""

from __future__ import annotations

from typing import Any

from slocompiler import conventions as c
from slocompiler.delivery import RoutingConfig, Tiers
from slocompiler.emit.yaml import dump, header

ROOT_MATCHER = f'{c.ID_LABEL}=~".+"'
DEFAULT_RECEIVER = "slo-default"
NO_DATA = f'{c.NO_DATA_LABEL}="{c.NO_DATA_VALUE}"'
NOT_NO_DATA = f'{c.NO_DATA_LABEL}!="{c.NO_DATA_VALUE}"'


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tier_routes(tiers: Tiers, fallback: Tiers | None = None) -> list[dict[str, Any]]:
    """Child routes of one set of receivers: no data first (it is a ticket too), page, ticket."""
    def pick(name: str) -> str | None:
        own = getattr(tiers, name)
        return own if own is not None else (getattr(fallback, name) if fallback is not None else None)

    page, ticket = pick("page"), pick("ticket")
    no_data = pick("no_data") or ticket
    out = []
    if no_data is not None:
        out.append({"receiver": no_data, "matchers": [NO_DATA]})
    if page is not None:
        out.append({"receiver": page, "matchers": [f'{c.TIER_ALERT_LABEL}="{c.Severity.PAGE.value}"']})
    if ticket is not None:
        out.append({"receiver": ticket, "matchers": [f'{c.TIER_ALERT_LABEL}="{c.Severity.TICKET.value}"']})
    return out


def default_receiver(cfg: RoutingConfig) -> str:
    return cfg.receiver or cfg.ticket or cfg.page or DEFAULT_RECEIVER


def route_subtree(cfg: RoutingConfig) -> dict[str, Any]:
    """The SLO subtree: every alert of an SLO (`sloth_id` set), then per `routes` entry and tier."""
    root: dict[str, Any] = {"receiver": default_receiver(cfg), "matchers": [ROOT_MATCHER],
                            "group_by": list(cfg.group_by)}
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if getattr(cfg, key):
            root[key] = getattr(cfg, key)
    children: list[dict[str, Any]] = []
    for rule in cfg.routes:
        route: dict[str, Any] = {"receiver": rule.receiver or default_receiver(cfg),
                                 "matchers": [f"{k}={_quote(v)}" for k, v in sorted(rule.match.items())]}
        below = _tier_routes(rule) if rule.receiver else _tier_routes(rule, cfg)
        if below:
            route["routes"] = below
        children.append(route)
    children += _tier_routes(cfg)
    if children:
        root["routes"] = children
    return root


def inhibit_rules(cfg: RoutingConfig) -> list[dict[str, Any]]:
    """A page mutes the ticket of the same SLO; no data mutes the burn alerts it explains."""
    if not cfg.inhibit:
        return []
    equal = [c.ID_LABEL, *[label for label in cfg.inhibit_equal if label != c.ID_LABEL]]
    tier = c.TIER_ALERT_LABEL
    return [
        {"source_matchers": [f'{tier}="{c.Severity.PAGE.value}"'],
         "target_matchers": [f'{tier}="{c.Severity.TICKET.value}"', NOT_NO_DATA], "equal": equal},
        {"source_matchers": [NO_DATA],
         "target_matchers": [f'{tier}=~"{c.Severity.PAGE.value}|{c.Severity.TICKET.value}"', NOT_NO_DATA],
         "equal": equal},
    ]


def receiver_names(cfg: RoutingConfig) -> list[str]:
    """Every receiver the subtree names, in order of first use."""
    names: list[str] = []

    def walk(route: dict[str, Any]) -> None:
        if route["receiver"] not in names:
            names.append(route["receiver"])
        for child in route.get("routes", ()):
            walk(child)

    walk(route_subtree(cfg))
    return names


def full_config(cfg: RoutingConfig) -> dict[str, Any]:
    """A complete Alertmanager configuration: the subtree under a root route, receivers, inhibit rules."""
    receivers = [{"name": name, **cfg.receivers.get(name, {})} for name in receiver_names(cfg)]
    receivers += [{"name": name, **body} for name, body in sorted(cfg.receivers.items())
                  if name not in receiver_names(cfg)]
    doc: dict[str, Any] = {"route": {"receiver": default_receiver(cfg), "group_by": list(cfg.group_by),
                                     "routes": [route_subtree(cfg)]},
                           "receivers": receivers}
    rules = inhibit_rules(cfg)
    if rules:
        doc["inhibit_rules"] = rules
    return doc


def alertmanager_files(cfg: RoutingConfig, version: str) -> dict[str, bytes]:
    """OUT/alertmanager/routes.yaml (to paste) and alertmanager.yaml (complete, checkable)."""
    source = "the `routing:` section of the config file"
    paste = {"routes": [route_subtree(cfg)], "inhibit_rules": inhibit_rules(cfg)}
    note = ("# Paste the route below first under your `route.routes:`, and the inhibit rules into yours\n"
            "# (docs/routing.md).\n")
    folder = c.Output.ALERTMANAGER.value
    return {
        f"{folder}/{c.ALERTMANAGER_ROUTES}": (header(source, version) + note + dump(paste)).encode("utf-8"),
        f"{folder}/{c.ALERTMANAGER_CONFIG}": (header(source, version) + dump(full_config(cfg))).encode("utf-8"),
    }
