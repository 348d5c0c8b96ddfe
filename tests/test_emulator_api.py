"""Emulator control plane and error codes, through unmodified boto3 over 127.0.0.1."""

from __future__ import annotations

import threading
from typing import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from kvs_parser.emulator import Emulator, Limits, SyntheticCamera

pytestmark = pytest.mark.timeout(60)
CREDENTIALS = {"region_name": "us-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


def client(emu: Emulator, service: str, **overrides: str):
    return boto3.client(service, endpoint_url=emu.endpoint_url, **{**CREDENTIALS, **overrides})


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(limits=Limits(getmedia_connections_per_stream=1)) as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=10, max_frames=5))
        yield emulator


def error_code(call, **kwargs) -> tuple:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_control_plane(emu: Emulator) -> None:
    kv = client(emu, "kinesisvideo")
    assert kv.get_data_endpoint(StreamName="cam", APIName="GET_MEDIA")["DataEndpoint"] == emu.endpoint_url
    info = kv.describe_stream(StreamName="cam")["StreamInfo"]
    assert (info["StreamName"], info["Status"]) == ("cam", "ACTIVE")
    assert kv.describe_stream(StreamARN=info["StreamARN"])["StreamInfo"]["StreamName"] == "cam"
    arn = kv.create_stream(StreamName="made", MediaType="video/h264")["StreamARN"]
    assert sorted(s["StreamName"] for s in kv.list_streams()["StreamInfoList"]) == ["cam", "made"]
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "ma"}
    assert [s["StreamName"] for s in kv.list_streams(StreamNameCondition=condition)["StreamInfoList"]] == ["made"]
    kv.delete_stream(StreamARN=arn)
    assert error_code(kv.describe_stream, StreamName="made") == ("ResourceNotFoundException", 404)


def test_error_codes(emu: Emulator) -> None:
    kv = client(emu, "kinesisvideo")
    media = client(emu, "kinesis-video-media")
    now = {"StartSelectorType": "NOW"}
    assert error_code(media.get_media, StreamName="nope", StartSelector=now) == ("ResourceNotFoundException", 404)
    assert error_code(media.get_media, StreamName="cam", StartSelector={"StartSelectorType": "FRAGMENT_NUMBER",
                                                                        "AfterFragmentNumber": "x"}) == (
        "InvalidArgumentException", 400)
    assert error_code(kv.get_data_endpoint, StreamName="cam", APIName="BOGUS") == ("InvalidArgumentException", 400)
    assert error_code(kv.create_stream, StreamName="cam") == ("ResourceInUseException", 400)
    # Throttling on the 2nd DescribeStream only.
    emu.throttle("cam", operation="DescribeStream", on_call=2)
    kv.describe_stream(StreamName="cam")
    assert error_code(kv.describe_stream, StreamName="cam") == ("ClientLimitExceededException", 400)
    kv.describe_stream(StreamName="cam")


def test_connection_limit(emu: Emulator) -> None:
    media = client(emu, "kinesis-video-media")
    first = media.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})
    assert error_code(media.get_media, StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"}) == (
        "ConnectionLimitExceededException", 400)
    first["Payload"].read()  # the camera stops after 5 frames, so this ends
    first["Payload"].close()
    media.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})["Payload"].read()


def test_tps_limit() -> None:
    with Emulator(limits=Limits(getmedia_tps_per_stream=2)) as emu:
        emu.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=10, max_frames=1))
        media = client(emu, "kinesis-video-media", aws_access_key_id="y")
        codes = []
        for _ in range(3):
            try:
                media.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})["Payload"].read()
                codes.append("ok")
            except ClientError as error:
                codes.append(error.response["Error"]["Code"])
        assert codes == ["ok", "ok", "ClientLimitExceededException"]


def test_not_authorized() -> None:
    with Emulator(allowed_access_keys={"good"}) as emu:
        emu.add_empty_stream("s")
        assert client(emu, "kinesisvideo", aws_access_key_id="good").describe_stream(StreamName="s")
        bad = client(emu, "kinesisvideo", aws_access_key_id="bad")
        assert error_code(bad.describe_stream, StreamName="s") == ("NotAuthorizedException", 401)


def test_close_ends_open_streams_and_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    emu = Emulator().start()
    emu.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=10))  # endless
    payload = client(emu, "kinesis-video-media").get_media(
        StreamName="cam", StartSelector={"StartSelectorType": "NOW"})["Payload"]
    assert payload.read(10)
    emu.close()
    payload.close()
    assert set(threading.enumerate()) <= before
