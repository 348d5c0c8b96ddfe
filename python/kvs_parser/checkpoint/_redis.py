"""Checkpoints in Redis: one hash per camera, shared by every node of a cluster."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, cast

from .._extras import missing_extra

try:
    import redis
except ImportError as error:
    raise missing_extra("ray", error) from error

from ._model import Checkpoint, CheckpointStoreError

# Compare-and-set in one round trip: refuse a fragment number older than the stored one (fragment numbers
# are decimal strings beyond 64 bits, compared by length, then as text). Returns 1 if written.
_SAVE = """
local stored = redis.call('HGET', KEYS[1], 'fragment_number')
if stored then
  local old = string.gsub(stored, '^0+', '')
  local new = string.gsub(ARGV[1], '^0+', '')
  if #new < #old or (#new == #old and new < old) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fragment_number', ARGV[1], 'updated_ms', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


class RedisCheckpointStore:
    """``CheckpointStore`` on Redis (``redis://host:port/db``). Calls time out after ``socket_timeout``
    seconds and raise ``CheckpointStoreError``; the camera runner retries them."""

    def __init__(self, url: str, *, key_prefix: str = "kvs-parser:checkpoint", socket_timeout: float = 2.0,
                 client: Any = None) -> None:
        self.url, self.key_prefix = url, key_prefix
        self._redis = client if client is not None else redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, decode_responses=True)
        self._save = self._redis.register_script(_SAVE)

    def _key(self, camera_id: str) -> str:
        return f"{self.key_prefix}:{camera_id}"

    def load(self, camera_id: str) -> Optional[Checkpoint]:
        try:
            fields: Dict[str, str] = cast(Dict[str, str], self._redis.hgetall(self._key(camera_id)))  # decoded
        except redis.RedisError as error:
            raise CheckpointStoreError(f"checkpoint store {self.url}: {error}") from error
        if not fields:
            return None
        try:
            producer = fields.get("producer_time_ms")
            return Checkpoint(
                camera_id=camera_id, fragment_number=fields["fragment_number"],
                continuation_token=fields.get("continuation_token"),
                producer_time_ms=None if producer is None else int(producer), in_flight=fields.get("in_flight"),
                updated_ms=int(fields.get("updated_ms", 0)),
            )
        except (KeyError, ValueError) as error:
            raise CheckpointStoreError(f"checkpoint of {camera_id} in {self.url} is corrupt: {fields}") from error

    def save(self, checkpoint: Checkpoint) -> bool:
        c = checkpoint
        optional = {"continuation_token": c.continuation_token, "producer_time_ms": c.producer_time_ms,
                    "in_flight": c.in_flight}
        args: list[Any] = [c.fragment_number, c.updated_ms or int(time.time() * 1000)]
        for name, value in optional.items():
            if value is not None:
                args += [name, value]
        try:
            return bool(self._save(keys=[self._key(c.camera_id)], args=args))
        except redis.RedisError as error:
            raise CheckpointStoreError(f"checkpoint store {self.url}: {error}") from error

    def delete(self, camera_id: str) -> None:
        try:
            self._redis.delete(self._key(camera_id))
        except redis.RedisError as error:
            raise CheckpointStoreError(f"checkpoint store {self.url}: {error}") from error

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisCheckpointStore({self.url!r})"
