"""Checkpoints in Redis: one hash per camera, shared by every node of a cluster."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, cast

from .._extras import missing_extra
from .._redact import redact

try:
    import redis
except ImportError as error:
    raise missing_extra("ray", error) from error

from ._model import Checkpoint, CheckpointStoreError, validated

# Compare-and-set in one round trip: refuse a writer whose lease was taken (a lower epoch) and a fragment
# number older than the stored one (decimal strings beyond 64 bits, compared by length, then as text).
# The lease fields survive every save. Returns 1 if written.
_SAVE = """
local stored = redis.call('HGET', KEYS[1], 'fragment_number')
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') or 0
if tonumber(ARGV[3]) < epoch then return 0 end
if stored then
  local old = string.gsub(stored, '^0+', '')
  local new = string.gsub(ARGV[1], '^0+', '')
  if #new < #old or (#new == #old and new < old) then return 0 end
end
redis.call('HDEL', KEYS[1], 'continuation_token', 'producer_time_ms', 'in_flight')
if tonumber(ARGV[3]) > epoch then redis.call('HSET', KEYS[1], 'epoch', ARGV[3]) end  -- a record lost meanwhile
redis.call('HSET', KEYS[1], 'fragment_number', ARGV[1], 'updated_ms', ARGV[2])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""
# A new lease: the epoch one above any granted before (the record is created if absent).
_ACQUIRE = """
redis.call('HSETNX', KEYS[1], 'fragment_number', '')
redis.call('HSETNX', KEYS[1], 'updated_ms', ARGV[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'epoch', 1)
"""


class RedisCheckpointStore:
    """``CheckpointStore`` on Redis (``redis://[user:password@]host:port/db``, ``rediss://`` for TLS).
    Calls time out after ``socket_timeout`` seconds and raise ``CheckpointStoreError``; the camera retries
    them. The URL's password never appears in messages or the repr."""

    def __init__(self, url: str, *, key_prefix: str = "kvs-parser:checkpoint", socket_timeout: float = 2.0,
                 client: Any = None) -> None:
        self.url, self.key_prefix = redact(url), key_prefix  # the password stays in the client only
        self._redis = client if client is not None else redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, decode_responses=True)
        self._save = self._redis.register_script(_SAVE)
        self._acquire = self._redis.register_script(_ACQUIRE)

    def _key(self, camera_id: str) -> str:
        return f"{self.key_prefix}:{camera_id}"

    def _error(self, error: Exception) -> CheckpointStoreError:
        return CheckpointStoreError(f"checkpoint store {self.url}: {redact(str(error))}")

    def acquire(self, camera_id: str, owner: str) -> int:
        try:
            return int(self._acquire(keys=[self._key(camera_id)], args=[owner, int(time.time() * 1000)]))
        except redis.RedisError as error:
            raise self._error(error) from None

    def load(self, camera_id: str) -> Optional[Checkpoint]:
        try:
            fields: Dict[str, str] = cast(Dict[str, str], self._redis.hgetall(self._key(camera_id)))  # decoded
        except redis.RedisError as error:
            raise self._error(error) from None
        return validated(camera_id, fields, self.url) if fields else None

    def save(self, checkpoint: Checkpoint) -> bool:
        c = checkpoint
        optional = {"continuation_token": c.continuation_token, "producer_time_ms": c.producer_time_ms,
                    "in_flight": c.in_flight}
        args: list[Any] = [c.fragment_number, c.updated_ms or int(time.time() * 1000), c.epoch]
        for name, value in optional.items():
            if value is not None:
                args += [name, value]
        try:
            return bool(self._save(keys=[self._key(c.camera_id)], args=args))
        except redis.RedisError as error:
            raise self._error(error) from None

    def delete(self, camera_id: str) -> None:
        try:
            self._redis.delete(self._key(camera_id))
        except redis.RedisError as error:
            raise self._error(error) from None

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisCheckpointStore({self.url!r})"
