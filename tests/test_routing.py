"""Alertmanager routing generated from the config's `routing:` section (docs/routing.md).

- the generated alertmanager.yaml passes the real `amtool check-config`, and so does a user's
  configuration with routes.yaml pasted into it; `amtool config routes test` shows each alert
  reaching the receiver its team and tier ask for;
- end to end: a real Prometheus (tests/prom_server.py, healthy history backfilled with promtool,
  live counters scraped from this test) runs the generated rules and sends to a real
  Alertmanager running the generated configuration; a webhook receiver in this test records the
  notifications. An outage pages the page receiver within the alert plan's detection time, with
  the documented labels and annotations; the ticket of the same SLO fires in Prometheus but is
  inhibited; both resolve after recovery. A slow burn of another SLO sends only its ticket.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import require_binary
from helpers import run_cli
from prom_server import PromServer, PromServerError, Series, launch, terminate

WINDOWS = """\
apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 1h
  page:
    quick: {errorBudgetPercent: 5, shortWindow: 30s, longWindow: 1m}
    slow: {errorBudgetPercent: 10, shortWindow: 30s, longWindow: 2m}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 10s, longWindow: 4m}
    slow: {errorBudgetPercent: 20, shortWindow: 10s, longWindow: 8m}
"""
# objective 90 % (budget 0.1): page pairs fire above an error ratio of 0.3 (3 x 0.1), ticket
# pairs above 0.15; a total outage trips the page after 18 s (0.3 x 1m), the ticket after 36 s
# (0.15 x 4m); after recovery the ticket's 10 s short windows clear before the page's 30 s ones.

SPECS = """\
version: slocompiler/v1
service: checkout
owner: payments-team
labels: {team: payments}
period: 1h
slos:
  - name: availability
    objective: 90
    runbook_url: https://runbooks.example/checkout
    dashboard_url: https://grafana.example/d/checkout
    sli:
      ratio: {errors: 'requests_total{service="checkout", code="500"}', total: 'requests_total{service="checkout"}'}
    alerting: {no_data: false}
---
version: slocompiler/v1
service: search
owner: search-team
labels: {team: search}
period: 1h
slos:
  - name: availability
    objective: 90
    sli:
      ratio: {errors: 'requests_total{service="search", code="500"}', total: 'requests_total{service="search"}'}
    alerting: {no_data: false}
"""

ROUTING = """\
routing:
  page: pagerduty-sre
  ticket: slack-sre
  routes:
    - match: {team: payments}
      page: pagerduty-payments
      ticket: slack-payments
    - match: {sloth_owner: search-team}
      receiver: search-inbox
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
"""

RATE = 10.0  # requests per second of each service


def amtool() -> str:
    return require_binary("amtool", "Debian's prometheus-alertmanager; install it with scripts/ensure-promtool.sh")


def alertmanager_bin() -> str:
    return require_binary("prometheus-alertmanager", "install it with scripts/ensure-promtool.sh")


def compile_tree(root: Path, routing: str, out: str = "out") -> Path:
    (root / "specs").mkdir(parents=True, exist_ok=True)
    (root / "specs/windows.yaml").write_text(WINDOWS)
    (root / "specs/shop.yaml").write_text(SPECS)
    (root / "slocompiler.yaml").write_text(f"specs: [specs]\noutput: {out}\n" + routing)
    r = run_cli("build", cwd=root)
    assert r.returncode == 0, r.stderr
    return root / out


def routes_test(config: Path, *labels: str) -> str:
    proc = subprocess.run([amtool(), "config", "routes", "test", f"--config.file={config}", *labels],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def test_generated_configuration_passes_amtool_and_routes_by_team_and_tier(tmp_path):
    out = compile_tree(tmp_path, ROUTING)
    config = out / "alertmanager/alertmanager.yaml"
    proc = subprocess.run([amtool(), "check-config", str(config)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 inhibit rules" in proc.stdout
    # a user's own configuration with routes.yaml pasted in
    paste = yaml.safe_load((out / "alertmanager/routes.yaml").read_text())
    names = ["pagerduty-sre", "slack-sre", "pagerduty-payments", "slack-payments", "search-inbox", "team-default"]
    user = {"route": {"receiver": "team-default", "routes": [*paste["routes"], {"receiver": "team-default"}]},
            "receivers": [{"name": n} for n in names], "inhibit_rules": paste["inhibit_rules"]}
    (tmp_path / "user.yaml").write_text(yaml.safe_dump(user))
    proc = subprocess.run([amtool(), "check-config", str(tmp_path / "user.yaml")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cases = {  # alert labels -> receiver
        ("sloth_id=checkout-availability", "team=payments", "sloth_severity=page"): "pagerduty-payments",
        ("sloth_id=checkout-availability", "team=payments", "sloth_severity=ticket"): "slack-payments",
        ("sloth_id=checkout-availability", "team=payments", "sloth_severity=ticket",
         "slo_alert=no_data"): "slack-payments",
        ("sloth_id=search-availability", "sloth_owner=search-team", "sloth_severity=page"): "search-inbox",
        ("sloth_id=x-y", "team=other", "sloth_severity=page"): "pagerduty-sre",
        ("sloth_id=x-y", "team=other", "sloth_severity=ticket"): "slack-sre",
        ("alertname=Watchdog",): "team-default",  # not an SLO alert: left to the user's tree
    }
    for labels, receiver in cases.items():
        assert routes_test(tmp_path / "user.yaml", *labels) == receiver, labels
    assert routes_test(config, "sloth_id=checkout-availability", "team=payments",
                       "sloth_severity=page") == "pagerduty-payments"


def test_no_routing_section_writes_no_alertmanager_files(tmp_path):
    out = compile_tree(tmp_path, "")
    assert not (out / "alertmanager").exists()


def test_routing_config_errors_are_positioned(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/shop.yaml").write_text(SPECS)
    (tmp_path / "slocompiler.yaml").write_text("specs: [specs]\noutput: out\nrouting:\n  routes:\n    - page: x\n")
    r = run_cli("build", cwd=tmp_path)
    assert r.returncode != 0
    assert "slocompiler.yaml:5:" in r.stderr and "match" in r.stderr, r.stderr


# -- a real Alertmanager ------------------------------------------------------------------------


class Alertmanager:
    """The real `prometheus-alertmanager` on loopback with CONFIG (tests/prom_server.py's launch)."""

    def __init__(self, config: Path, workdir: Path):
        self.config, self.workdir = config, workdir

    def __enter__(self) -> Alertmanager:
        binary = alertmanager_bin()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "alertmanager.log"
        port, self.proc, self.handle = launch(
            lambda p: [binary, f"--config.file={self.config}", f"--storage.path={self.workdir}",
                       f"--web.listen-address=127.0.0.1:{p}", "--cluster.listen-address=", "--log.level=info"],
            "/-/ready", name="alertmanager", error=PromServerError, log_path=self.log_path, log=self.log,
            cwd=self.workdir, timeout=30)
        self.address = f"127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        terminate(self.proc)
        self.handle.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def alerts(self) -> list[dict]:
        with urllib.request.urlopen(f"http://{self.address}/api/v2/alerts", timeout=10) as r:
            return json.loads(r.read())

    def post(self, alerts: list[dict]) -> None:
        req = urllib.request.Request(f"http://{self.address}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200


def test_inhibit_rules_in_a_real_alertmanager(tmp_path):
    """Alerts with the generated labels posted to Alertmanager running the generated
    configuration: a page mutes the ticket of the same SLO (and of the same `by` group), no data
    mutes the burn alerts of its SLO, and nothing else is muted."""
    out = compile_tree(tmp_path, ROUTING + "  inhibit_equal: [model]\n")

    def alert(name: str, sloth_id: str, tier: str, **labels: str) -> dict:
        return {"labels": {"alertname": name, "sloth_id": sloth_id, "sloth_severity": tier, **labels}}

    sent = [
        alert("CheckoutAvailability", "checkout-availability", "page", team="payments", model="a"),
        alert("CheckoutAvailability", "checkout-availability", "ticket", team="payments", model="a"),  # muted
        alert("CheckoutAvailability", "checkout-availability", "ticket", team="payments", model="b"),  # other group
        alert("SearchAvailability", "search-availability", "ticket", team="search"),                  # other SLO
        alert("FeedAvailabilityNoData", "feed-availability", "ticket", slo_alert="no_data"),
        alert("FeedAvailability", "feed-availability", "page"),                                     # muted
        alert("FeedAvailability", "feed-availability", "ticket"),                                   # muted
    ]
    expected = {
        ("CheckoutAvailability", "page", "a"): False, ("CheckoutAvailability", "ticket", "a"): True,
        ("CheckoutAvailability", "ticket", "b"): False, ("SearchAvailability", "ticket", ""): False,
        ("FeedAvailabilityNoData", "ticket", ""): False, ("FeedAvailability", "page", ""): True,
        ("FeedAvailability", "ticket", ""): True,
    }
    with Alertmanager(out / "alertmanager/alertmanager.yaml", tmp_path / "am") as am:
        am.post(sent)
        deadline = time.time() + 20
        while True:  # Alertmanager marks inhibited alerts as each group is flushed (group_wait 1s)
            state = {(a["labels"]["alertname"], a["labels"]["sloth_severity"], a["labels"].get("model", "")):
                     bool(a["status"]["inhibitedBy"]) for a in am.alerts()}
            if state == expected or time.time() > deadline:
                break
            time.sleep(0.25)
        assert state == expected, am.log()


# -- end to end ---------------------------------------------------------------------------------


class World:
    """Live counters for Prometheus to scrape, and the notifications Alertmanager sends, on one
    loopback HTTP server. Counters integrate each service's error ratio over wall-clock time."""

    def __init__(self, t0: float, ratios: dict[str, tuple[float, float]]):
        self.lock = threading.Lock()
        self.t0 = t0
        self.state = {s: (since, 0.0, r) for s, (since, r) in ratios.items()}  # since, errors so far, ratio
        self.notifications: list[tuple[float, str, dict]] = []
        world = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = world.exposition(time.time()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with world.lock:
                    world.notifications.append((time.time(), self.path.strip("/"), data))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def errors(self, service: str, t: float) -> float:
        since, errors, ratio = self.state[service]
        return errors + ratio * RATE * (t - since)

    def set_ratio(self, service: str, ratio: float) -> float:
        with self.lock:
            now = time.time()
            self.state[service] = (now, self.errors(service, now), ratio)
        return now

    def exposition(self, t: float) -> str:
        with self.lock:
            lines = ["# TYPE requests_total counter"]
            for service in self.state:
                lines.append(f'requests_total{{service="{service}", code="200"}} '
                             f'{RATE * (t - self.t0) - self.errors(service, t)}')
                lines.append(f'requests_total{{service="{service}", code="500"}} {self.errors(service, t)}')
            return "\n".join(lines) + "\n"

    def received(self, receiver: str, alertname: str, sloth_id: str, status: str = "firing") -> list[dict]:
        with self.lock:
            return [a for _, r, n in self.notifications if r == receiver for a in n["alerts"]
                    if a["status"] == status and a["labels"].get("sloth_id") == sloth_id
                    and a["labels"]["alertname"] == alertname]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(what: str, check, timeout: float, world: World, extra=lambda: "") -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return time.time()
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; notifications: {world.notifications}\n{extra()}")


def history(world: World, start: int, end: int, live: str) -> list[Series]:
    """Backfilled history with the labels the scrape adds (job, instance): every service healthy
    for an hour, search burning 20 % of its requests over the last 10 minutes."""
    labels = {"job": "live", "instance": live}

    def errors_search(t_rel: float) -> float:
        burn = end - 600
        return 0.2 * RATE * max(0.0, start + t_rel - burn)

    out = []
    for service in world.state:
        err = errors_search if service == "search" else (lambda t_rel: 0.0)
        out.append(Series("requests_total", {**labels, "service": service, "code": "500"}, err))
        out.append(Series("requests_total", {**labels, "service": service, "code": "200"},
                          lambda t_rel, err=err: RATE * (start + t_rel - world.t0) - err(t_rel)))
    return out


def test_outage_pages_inhibits_the_ticket_and_resolves_slow_burn_tickets(tmp_path, prometheus_bin):
    step = 5
    end = int(time.time() - 2) // step * step
    start = end - 3600
    world = World(t0=start, ratios={"checkout": (start, 0.0), "search": (end - 600, 0.2)})
    receivers = ["pagerduty-sre", "slack-sre", "pagerduty-payments", "slack-payments", "search-inbox"]
    hooks = "".join(f"    {r}:\n      webhook_configs: [{{url: 'http://{world.address}/{r}', send_resolved: true}}]\n"
                    for r in receivers)
    out = compile_tree(tmp_path, ROUTING + "  receivers:\n" + hooks)
    r = run_cli("explain", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (checkout,) = [s for s in json.loads(r.stdout)["slos"] if s["id"] == "checkout-availability"]
    detection = min(p["detection_total_outage_s"] for t in checkout["tiers"] if t["severity"] == "page"
                    for p in t["pairs"] if p["enabled"])  # the alert plan's: min f*B*L over the page pairs
    assert detection == pytest.approx(18)
    try:
        with Alertmanager(out / "alertmanager/alertmanager.yaml", tmp_path / "am") as am, PromServer(sorted((out / "prometheus").glob("*.yaml")), history(world, start, end, world.address),
                        start=start, end=end, step=step, eval_interval="1s", prometheus_bin=prometheus_bin,
                        alertmanagers=[am.address], scrape_targets=[world.address], scrape_interval="1s") as prom:
            outage = world.set_ratio("checkout", 1.0)

            def prom_alert(name: str, severity: str, sloth_id: str) -> list[dict]:
                return [a for a in prom.alerts() if a["labels"]["alertname"] == name and a["state"] == "firing"
                        and a["labels"]["sloth_severity"] == severity and a["labels"]["sloth_id"] == sloth_id]

            logs = lambda: prom.log(20) + "\n" + am.log()  # noqa: E731
            # the page reaches the payments pager within the plan's detection time (18 s) plus
            # scrape, evaluation and group_wait
            paged = wait_until("the checkout page", lambda: world.received(
                "pagerduty-payments", "CheckoutAvailability", "checkout-availability"), 45, world, logs)
            print(f"paged {paged - outage:.1f}s after the outage began (plan: {detection:.0f}s)")
            assert paged - outage < detection + 15  # + scrape, rule evaluation and group_wait
            (page,) = world.received("pagerduty-payments", "CheckoutAvailability", "checkout-availability")[:1]
            labels, notes = page["labels"], page["annotations"]
            assert {k: labels[k] for k in ("sloth_severity", "severity", "sloth_id", "sloth_owner", "team",
                                           "sloth_service", "sloth_slo")} == {
                "sloth_severity": "page", "severity": "critical", "sloth_id": "checkout-availability",
                "sloth_owner": "payments-team", "team": "payments", "sloth_service": "checkout",
                "sloth_slo": "availability"}
            assert notes["runbook_url"] == "https://runbooks.example/checkout"
            assert notes["dashboard_url"] == "https://grafana.example/d/checkout"
            assert notes["summary"] and notes["title"].startswith("(page)")
            # the ticket of the same SLO fires in Prometheus, and Alertmanager holds it back
            wait_until("the checkout ticket in Prometheus",
                       lambda: prom_alert("CheckoutAvailability", "ticket", "checkout-availability"), 60, world, logs)
            wait_until("the ticket inhibited in Alertmanager", lambda: any(
                a["labels"].get("sloth_severity") == "ticket" and a["labels"]["sloth_id"] == "checkout-availability"
                and a["status"]["inhibitedBy"] for a in am.alerts()), 15, world, logs)
            time.sleep(3)  # a few group intervals: nothing may reach the ticket receiver
            assert not world.received("slack-payments", "CheckoutAvailability", "checkout-availability")
            # the slow burn: search's ticket only, to the search owner's inbox
            wait_until("the search ticket", lambda: world.received(
                "search-inbox", "SearchAvailability", "search-availability"), 30, world, logs)
            tickets = world.received("search-inbox", "SearchAvailability", "search-availability")
            assert {a["labels"]["sloth_severity"] for a in tickets} == {"ticket"}
            assert tickets[0]["labels"]["severity"] == "warning"
            assert not prom_alert("SearchAvailability", "page", "search-availability")
            # recovery: both resolve, the page's resolution is sent, the ticket was never sent
            world.set_ratio("checkout", 0.0)
            wait_until("the page resolved", lambda: world.received(
                "pagerduty-payments", "CheckoutAvailability", "checkout-availability", "resolved"), 60, world, logs)
            wait_until("no checkout alert firing", lambda: not [
                a for a in prom.alerts() if a["labels"]["sloth_id"] == "checkout-availability"], 30, world, logs)
            time.sleep(3)
            assert not world.received("slack-payments", "CheckoutAvailability", "checkout-availability")
            assert not [a for a in am.alerts() if a["labels"].get("sloth_id") == "checkout-availability"
                        and a["status"]["state"] == "active"]
            # nothing of search ever paged anyone
            assert not any(a["labels"].get("sloth_severity") == "page" and a["labels"]["sloth_id"] ==
                           "search-availability" for _, _, n in world.notifications for a in n["alerts"])
    finally:
        world.close()


TIER_CONTROLS = """\
version: slocompiler/v1
service: checkout
owner: payments-team
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio: {errors: 'http_requests_total{code=~"5..", service="checkout"}', total: 'http_requests_total{service="checkout"}'}
    alerting:
      labels: {severity: ignored-by-tier}
      page_alert: {severity: urgent, disable_pair: quick, labels: {escalation: sre}}
      ticket_alert: {disable_pair: slow}
"""


def test_tier_controls_reach_rules_promtool_tests_explain_docs_and_dashboards(tmp_path, promtool):
    (tmp_path / "a.yaml").write_text(TIER_CONTROLS)
    r = run_cli("build", tmp_path / "a.yaml", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    groups = yaml.safe_load((tmp_path / "out/prometheus/a.yaml").read_text())["groups"]
    alerts = {r["labels"]["sloth_severity"]: r for g in groups for r in g["rules"]
              if r.get("alert") == "CheckoutAvailability"}
    page, ticket = alerts["page"], alerts["ticket"]
    assert page["labels"]["severity"] == "urgent" and page["labels"]["escalation"] == "sre"
    assert page["labels"]["sloth_window_pair"] == "slow" and "ratio_rate5m" not in page["expr"]
    assert ticket["labels"]["severity"] == "ignored-by-tier"  # the spec's own severity label wins the default
    assert ticket["labels"]["sloth_window_pair"] == "quick" and "ratio_rate3d" not in ticket["expr"]
    # the generated promtool tests exercise the remaining pairs only, and pass
    r = run_cli("test", tmp_path / "a.yaml", "--promtool", promtool)
    assert r.returncode == 0, r.stdout + r.stderr
    tests = (tmp_path / "out/tests/a.yaml").read_text() + (tmp_path / "out/tests/a.ticket.yaml").read_text()
    assert "page above-slow" in tests and "page above-quick" not in tests
    assert "ticket above-quick" in tests and "ticket above-slow" not in tests
    # explain, the catalog page and the dashboard say so
    r = run_cli("explain", tmp_path / "a.yaml", "--format", "json")
    assert r.returncode == 0, r.stderr
    (info,) = json.loads(r.stdout)["slos"]
    assert [(t["severity"], t["severity_label"], [p["enabled"] for p in t["pairs"]]) for t in info["tiers"]] == [
        ("page", "urgent", [False, True]), ("ticket", "ignored-by-tier", [True, False])]
    text = run_cli("explain", tmp_path / "a.yaml").stdout
    assert "severity=urgent" in text and text.count("[disabled: not part of the alert]") == 2
    assert (tmp_path / "out/docs/checkout.md").read_text().count("), disabled |") == 2
    board = (tmp_path / "out/grafana/checkout.json").read_text()
    assert "page quick (off)" in board and "ticket slow (off)" in board and "page slow (off)" not in board
