"""deploy/: the alert rules pass `promtool check rules` and their unit tests (`promtool test rules`), and the
Grafana dashboard and the rules query only metrics the package exports (every one of them, for the
dashboard), in PromQL that promtool parses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator, List, Set

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter

from kvs_parser.checkpoint._metrics import CheckpointMetrics
from kvs_parser.fleet import _fleet as fleet_module
from kvs_parser.metrics import KVSMetrics
from kvs_parser.ray import FleetMetricsCollector

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "kvs-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "kvs-fleet.json"
METRIC_NAME = re.compile(r"\bkvs_[a-z0-9_]+\b")

pytestmark = pytest.mark.timeout(60)


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (scripts/system_packages.sh installs Debian's prometheus)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    return path


class OneActor:
    """The fleet a FleetMetricsCollector scrapes: one camera whose actor answers with no text."""

    @property
    def camera_ids(self) -> List[str]:
        return ["door"]

    def metrics_texts(self, timeout: float) -> dict[str, str]:
        return {}


def exported_names() -> Set[str]:
    """Every sample name the package's metrics appear under on /metrics, from the real registries."""
    registry = CollectorRegistry()
    KVSMetrics(registry).camera("door")
    KVSMetrics(registry).hook_errors.labels("door")
    CheckpointMetrics(registry).camera("door")
    registry.register(FleetMetricsCollector(OneActor()))
    # The fleet supervisor's own counter, made as kvs_parser.fleet._fleet.Fleet makes it (a Fleet needs
    # worker processes to exist); the test below checks that file still names it.
    Counter("kvs_fleet_worker_restarts", "Worker processes restarted after dying", registry=registry)
    names = {sample.name for family in registry.collect() for sample in family.samples}
    return {name for name in names if not name.endswith("_created")}


def test_the_fleet_counter_is_still_named_so() -> None:
    source = Path(fleet_module.__file__).read_text()  # the source tree's, or an installed wheel's
    assert 'Counter("kvs_fleet_worker_restarts"' in source


def dashboard_queries() -> Iterator[str]:
    dashboard = json.loads(DASHBOARD.read_text())

    def walk(panels: List[Any]) -> Iterator[str]:
        for panel in panels:
            yield from (target["expr"] for target in panel.get("targets", []))
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard["panels"])
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield variable["definition"]


def rule_queries() -> List[str]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_promtool_checks_and_unit_tests_the_alert_rules() -> None:
    tool = promtool()
    checked = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout
    tested = subprocess.run([tool, "test", "rules", "kvs-alerts_test.yml"], cwd=RULES.parent, capture_output=True,
                            text=True, timeout=30)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr


def test_every_metric_queried_is_exported_and_the_dashboard_shows_them_all() -> None:
    exported = exported_names()
    assert "kvs_getmedia_latency_ms_bucket" in exported and "kvs_ray_camera_up" in exported
    dashboard = {name for query in dashboard_queries() for name in METRIC_NAME.findall(query)}
    rules = {name for query in rule_queries() for name in METRIC_NAME.findall(query)}
    assert dashboard - exported == set() and rules - exported == set()
    shown = {re.sub(r"_(bucket|sum|count)$", "", name) for name in dashboard}
    every = {re.sub(r"_(bucket|sum|count)$", "", name) for name in exported}
    assert every - shown == set()


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    tool = promtool()
    queries = [query.replace("$instance", ".*").replace("$camera", ".*") for query in dashboard_queries()
               if not query.startswith("label_values(")]
    assert len(queries) > 20
    # promtool parses PromQL in rule files: each query becomes a recording rule.
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query{index}", "expr": query}
                                                        for index, query in enumerate(queries)]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_dashboard_has_a_fleet_overview_and_a_camera_drill_down() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == ["Fleet overview", "Camera drill-down ($camera)"]
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"datasource", "instance", "camera"}
    drill_down = " ".join(dashboard_queries())
    for metric in ("latency_ms_bucket", "frames_read_total", "frames_dropped_total", "connection_resets_total",
                   "bytes_total", "millis_behind_now", "decode_errors_total"):
        assert f'kvs_getmedia_{metric}{{instance=~"$instance", camera=~"$camera"}}' in drill_down, metric
