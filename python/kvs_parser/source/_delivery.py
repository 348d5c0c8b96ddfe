"""The delivery contract between a camera's reader and its consumer, the same in every host."""

from __future__ import annotations

from enum import Enum
from typing import Optional, Tuple, Union

from ..queue import QueuePolicy


class Delivery(str, Enum):
    """What a consumer slower than the camera gets.

    LIVE: stays live: when the queue is full the oldest queued picture is dropped and counted
    (``frames_dropped``). COMPLETE: every picture: a full queue stops the reading, so TCP slows KVS down
    (back-pressure), and the consumer falls behind live instead of losing pictures.
    """

    LIVE = "live"
    COMPLETE = "complete"


def queue_behaviour(delivery: Union[Delivery, str, None],
                    policy: Union[QueuePolicy, str]) -> Tuple[QueuePolicy, bool]:
    """The queue policy for `delivery` (or the bare `policy` when no delivery is named), and whether a put
    waits without a bound (COMPLETE: the reader waits for the consumer however long it takes)."""
    if delivery is None:
        return QueuePolicy(policy), False
    if Delivery(delivery) is Delivery.COMPLETE:
        return QueuePolicy.BLOCK, True
    return QueuePolicy.DROP_OLDEST, False


def delivery_of(policy: Union[QueuePolicy, str]) -> Optional[Delivery]:
    """The delivery a cameras.yaml's legacy ``frame_queue.policy`` stands for."""
    return Delivery.COMPLETE if QueuePolicy(policy) is QueuePolicy.BLOCK else Delivery.LIVE
