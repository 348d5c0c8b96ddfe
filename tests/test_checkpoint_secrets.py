"""A checkpoint store's secrets: a Redis ACL user with a password and a TLS connection work, and the
password never reaches a message, a repr, a log line or `kvs-parser run`'s output (real redis-server)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

from kvs_parser.checkpoint import Checkpoint, CheckpointStoreError, open_store
from redis_server import RedisServer

pytestmark = pytest.mark.timeout(120)
PASSWORD = "s3cr3t-Pa55word"
ACL = ["--user", "default", "off", "--user", "kvs", "on", f">{PASSWORD}", "~*", "+@all"]


@pytest.fixture(scope="module")
def acl_server() -> Iterator[RedisServer]:
    with RedisServer(ACL) as server:
        yield server


def user_url(server: RedisServer, password: str = PASSWORD) -> str:
    return f"redis://kvs:{password}@127.0.0.1:{server.port}/0"


def test_an_acl_user_with_a_password_reads_and_writes_and_the_password_is_never_shown(
        acl_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(user_url(acl_server))
    assert store.save(Checkpoint("door", "12", "token", 5, updated_ms=1))
    assert store.load("door") == Checkpoint("door", "12", "token", 5, updated_ms=1)
    assert PASSWORD not in repr(store) and "REDACTED" in repr(store)
    store.close()
    refused = open_store(user_url(acl_server, "wrong-" + PASSWORD))
    with pytest.raises(CheckpointStoreError) as raised:
        refused.load("door")
    refused.close()
    texts: List[str] = [str(raised.value), repr(raised.value), *map(str, raised.value.args)]
    cause = raised.value.__cause__ or raised.value.__context__
    texts += [str(cause)] if cause is not None else []
    assert not [text for text in texts if PASSWORD in text], texts
    assert "kvs:REDACTED@" in str(raised.value)
    with pytest.raises(ValueError) as unknown:
        open_store(f"postgres://kvs:{PASSWORD}@db/0")
    assert PASSWORD not in str(unknown.value)


def test_run_takes_the_url_from_a_file_or_the_environment_and_never_prints_the_password(
        acl_server: RedisServer, tmp_path: Path) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text("endpoint_url: http://127.0.0.1:9\nregion: us-west-2\n"
                      "cameras:\n  - {id: door, kvs_stream_name: door}\n")
    secret = tmp_path / "checkpoint-url"
    secret.write_text(user_url(acl_server, "wrong-" + PASSWORD) + "\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    for how in (["--checkpoint-file", str(secret)], []):
        run_env = dict(env, KVS_PARSER_CHECKPOINT=user_url(acl_server, "wrong-" + PASSWORD)) if not how else env
        result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers",
                                 "0", "--duration", "2", "--status-interval", "0.5", *how],
                                capture_output=True, text=True, env=run_env, timeout=60)
        output = result.stdout + result.stderr
        assert "checkpoint store redis://kvs:REDACTED@" in output, output  # the refused login, retried and said
        assert PASSWORD not in output


def make_certificates(directory: Path) -> dict:
    """A throwaway CA and a server certificate for 127.0.0.1 (openssl, as an operator would)."""
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.crt", "server.key", "server.csr",
                                                          "server.crt"))
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=kvs-test-ca"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "1", "-extfile", ext],
    ]
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=60)
    return {"ca": ca, "key": key, "cert": cert}


def test_a_tls_connection_with_rediss_works(tmp_path: Path) -> None:
    files = make_certificates(tmp_path)
    tls = ["--tls-cert-file", str(files["cert"]), "--tls-key-file", str(files["key"]), "--tls-ca-cert-file",
           str(files["ca"]), "--tls-auth-clients", "no"]
    with RedisServer(ACL, tls=tls) as server:
        store = open_store(f"rediss://kvs:{PASSWORD}@127.0.0.1:{server.port}/0?ssl_ca_certs={files['ca']}")
        assert store.save(Checkpoint("door", "12", updated_ms=3))
        assert store.load("door") == Checkpoint("door", "12", updated_ms=3)
        store.close()
        plain = open_store(f"redis://kvs:{PASSWORD}@127.0.0.1:{server.port}/0")  # no TLS: refused, typed
        with pytest.raises(CheckpointStoreError):
            plain.load("door")
        plain.close()


def test_log_lines_of_a_failing_store_hide_the_password(acl_server: RedisServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from kvs_parser.checkpoint import CheckpointKeeper
    from kvs_parser.getmedia import StartSelector

    store = open_store(user_url(acl_server, "wrong-" + PASSWORD))
    stopping = threading.Event()
    keeper = CheckpointKeeper(store, "door", stopping=stopping, retry_delay=0.05, max_delay=0.05)
    timer = threading.Timer(0.5, stopping.set)  # a few refused attempts, each logged, then stop
    timer.start()
    with caplog.at_level(logging.WARNING):
        assert keeper.begin(StartSelector.now()) is None
    timer.join()
    assert keeper.errors >= 2
    assert caplog.records and all(PASSWORD not in record.getMessage() for record in caplog.records)
    store.close()
