"""No HLS session secret in any exception: after the emulator answers the HLS playlist with 403 (the URL
FFmpeg was given carries the SessionToken), the error `read()` raises and `source.error` hold no token in
their str, repr, args or attributes, nor in any exception their __cause__/__context__ links reach
(suppressed context included), nor in the traceback a logger would print."""

from __future__ import annotations

import traceback
from typing import List, Set

import boto3
import pytest

from kvs_parser._redact import redact, scrubbed
from kvs_parser.emulator import Emulator, Fault, SyntheticCamera
from kvs_parser.getmedia import RetriesExhaustedError, RetryPolicy
from kvs_parser.source import KVSHLSFrameSource

pytestmark = pytest.mark.timeout(90)


def every_linked(error: BaseException) -> List[BaseException]:
    """`error` and every exception its __cause__ and __context__ links reach (bounded)."""
    found: List[BaseException] = []
    pending = [error]
    seen: Set[int] = set()
    while pending and len(found) < 100:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        pending += [link for link in (current.__cause__, current.__context__) if link is not None]
    return found


def printed(error: BaseException) -> List[str]:
    texts = [str(error), repr(error), *(repr(arg) for arg in error.args)]
    texts += [repr(value) for value in vars(error).values()]
    return texts


def test_no_session_token_anywhere_after_a_403_on_the_playlist() -> None:
    with Emulator() as emu:
        emu.add_live_stream("hls", SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5))
        emu.inject(Fault(error="AccessDeniedException", status=403), operation="GetHLSMasterPlaylist", times=None)
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
        source = KVSHLSFrameSource("hls", "hls", session=session, endpoint_url=emu.endpoint_url,
                                   retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
        with source, pytest.raises(RetriesExhaustedError) as caught:
            source.read(timeout=30)
        tokens = list(emu.hls.sessions)
    assert tokens, "no session was handed out: the test proves nothing"
    chain = every_linked(caught.value)
    assert source.error is caught.value
    # The FFmpeg error is there, redacted: the chain still says what happened.
    assert any("403" in str(error) or "Forbidden" in str(error) for error in chain), [str(e) for e in chain]
    texts = [text for error in chain for text in printed(error)]
    texts.append("".join(traceback.format_exception(caught.value)))
    texts.append(source.get_metrics().error or "")
    leaks = [text for text in texts if any(token in text for token in tokens)]
    assert not leaks
    assert all(redact(text) == text for text in texts)  # no other presigned field either


def test_scrubbed_follows_a_suppressed_context_and_keeps_clean_types() -> None:
    url = "https://h/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=CiAbC-secret_123"
    try:
        try:
            raise PermissionError(13, "Forbidden", url)
        except PermissionError:
            raise RetriesExhaustedError("gave up") from ValueError("no video")  # raw stays as __context__
    except RetriesExhaustedError as caught:
        error = caught
    clean = scrubbed(error)
    assert clean is error and isinstance(clean, RetriesExhaustedError)  # clean itself: kept, type and all
    chain = every_linked(error)
    assert len(chain) == 3 and clean.__suppress_context__
    assert not any("secret" in text for link in chain for text in printed(link))
    assert any("SessionToken=REDACTED" in str(link) for link in chain)
