"""One /metrics for the whole fleet: the parent scrapes each live worker's registry over loopback and
serves the union (each camera lives in exactly one worker, so no two workers send the same series)."""

from __future__ import annotations

import logging
import urllib.request
from typing import Callable, Iterable, Iterator, List

from prometheus_client.metrics_core import Metric

from ..metrics import merged_families

log = logging.getLogger(__name__)


class WorkerMetricsCollector:
    """A prometheus_client collector whose families are the merged families of every worker's /metrics."""

    def __init__(self, worker_urls: Callable[[], List[str]], timeout: float = 2.0) -> None:
        self._worker_urls, self._timeout = worker_urls, timeout
        # The workers are on this machine's loopback: an http_proxy from the environment must not see them.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def collect(self) -> Iterable[Metric]:
        return merged_families(self._texts())

    def _texts(self) -> Iterator[str]:
        for url in self._worker_urls():
            try:
                with self._opener.open(url, timeout=self._timeout) as response:
                    yield response.read().decode()
            except OSError as error:  # a worker that just died or is restarting: its cameras are absent once
                log.warning("metrics of %s not available: %s", url, error)
