"""The KubeRay manifest keeps its secrets in Secrets: Redis asks for a password, the GCS and the driver get
theirs from Secrets, no URL with a password is written in it, and the driver is probed on /healthz and
/readyz of the port its status server listens on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "deploy" / "kuberay" / "kvs-parser.yaml"


def documents() -> List[Dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def containers(doc: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    yield from doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])


def by_kind(kind: str, name: str) -> Dict[str, Any]:
    return next(d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def test_no_password_is_written_in_the_manifest() -> None:
    values = [line.split(" #", 1)[0] for line in MANIFEST.read_text().splitlines()
              if not line.lstrip().startswith("#")]  # what is applied, comments aside
    assert not [line for line in values if re.search(r"\w+://[^\s/@]*:[^\s/@]+@", line)]


def test_redis_requires_a_password_that_the_gcs_and_the_driver_read_from_secrets() -> None:
    redis = next(containers(by_kind("Deployment", "kvs-parser-redis")))
    assert "--requirepass" in redis["args"]
    password_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in redis["env"]}
    assert password_env["REDIS_PASSWORD"] == {"name": "kvs-parser-redis", "key": "password"}
    gcs = by_kind("RayCluster", "kvs-parser")["spec"]["gcsFaultToleranceOptions"]
    assert gcs["redisPassword"]["valueFrom"]["secretKeyRef"] == {"name": "kvs-parser-redis", "key": "password"}
    driver = next(containers(by_kind("Deployment", "kvs-parser-driver")))
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in driver.get("env", [])}
    assert env["KVS_PARSER_CHECKPOINT"] == {"name": "kvs-parser-checkpoint", "key": "url"}
    assert "--checkpoint" not in " ".join(map(str, driver.get("args", []) + driver.get("command", [])))


def test_the_driver_is_probed_on_its_health_endpoints() -> None:
    driver = next(containers(by_kind("Deployment", "kvs-parser-driver")))
    command = " ".join(map(str, driver.get("command", []) + driver.get("args", [])))
    port = int(re.search(r"--metrics-port[ =](\d+)", command).group(1))  # type: ignore[union-attr]
    assert "--metrics-host 0.0.0.0" in command or "--metrics-host=0.0.0.0" in command
    named = {entry.get("name"): entry["containerPort"] for entry in driver["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        target = driver[probe]["httpGet"]
        assert target["path"] == path and named.get(target["port"], target["port"]) == port
