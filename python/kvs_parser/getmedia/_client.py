"""GetMediaClient: boto3 clients for an account and region, handing out GetMediaStreams."""

from __future__ import annotations

from typing import Any, Optional

from .._aws.backoff import RetryPolicy
from .._aws.endpoint import EndpointResolver, client_config, stream_ref
from .._aws.pacing import RequestPacer
from .._aws.preflight import resolve_aws
from ._announce import announce_resets
from ._selector import StartSelector
from ._stream import GetMediaStream


class GetMediaClient:
    """Owns the boto3 clients (closed by close() / the with block); streams share its endpoint cache.

    >>> with GetMediaClient(region_name="us-west-2") as client:
    ...     for frame in client.stream("cam", start=StartSelector.now()).frames(): ...
    """

    def __init__(
        self,
        session: Any = None,
        *,
        region_name: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        profile_name: Optional[str] = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen
        pacer: Optional[RequestPacer] = None,
    ) -> None:
        """`session`: a boto3 Session (default: a new one, credentials from the usual chain);
        `endpoint_url`: the kinesisvideo control-plane endpoint (e.g. a local emulator);
        `connect_timeout`: seconds to establish a connection; `read_timeout`: the longest wait for response
        headers or for a byte of a body before the connection counts as lost and is resumed (streams
        lower it to their silence bound once they know the fragment duration);
        `pacer`: keeps GetDataEndpoint/GetMedia under the per-stream TPS limits (default: one of this
        client's own; pass `other_client.pacer` so clients of one process share one).

        Region, credentials and endpoint URL are checked here (see `preflight`): a missing region or
        credentials, or a malformed URL, raises a ConfigurationError at once instead of being retried."""
        target = resolve_aws(session, region=region_name, endpoint_url=endpoint_url, profile_name=profile_name)
        self.retry = retry
        self.pacer = pacer if pacer is not None else RequestPacer()
        self.resolver = EndpointResolver(target.session, target.endpoint_url, target.region,
                                         client_config(connect_timeout, read_timeout), pacer=self.pacer)

    def stream(
        self,
        stream_name: Optional[str] = None,
        *,
        stream_arn: Optional[str] = None,
        start: StartSelector = StartSelector("NOW"),  # noqa: B008 - frozen
        retry: Optional[RetryPolicy] = None,
        **options: Any,
    ) -> GetMediaStream:
        """A stream (not connected until read); `options` are GetMediaStream's keyword arguments. Each
        reconnect is logged (logger ``kvs_parser.getmedia``) before `on_reset`, if given, is called."""
        ref = stream_ref(stream_name, stream_arn)
        retry = retry or self.retry
        options["on_reset"] = announce_resets(ref, retry, options.get("on_reset"))
        return GetMediaStream(self.resolver, ref, start, retry=retry, **options)

    def close(self) -> None:
        self.resolver.close()

    def __enter__(self) -> GetMediaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
