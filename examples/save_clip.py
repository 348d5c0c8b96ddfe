"""Saving a clip: GetMedia bytes for some seconds, written as a playable, seekable MKV.

    python examples/save_clip.py my-camera clip.mkv --seconds 20 --region eu-west-1

GetMedia's bytes are a chain of fragments without a known length; `save_fragments` rewrites whole
fragments as one file with a Duration and Cues, so players show its length and can seek. The capture is
cut when the time is up, usually inside a fragment: the complete fragments are saved and the cut one is
reported, not raised. Plain boto3 is used for the request, to show the parser works on any byte source.
"""

from __future__ import annotations

import argparse
import time
from typing import Optional

from kvs_parser.getmedia import resolve_aws
from kvs_parser.save import save_fragments


def capture(stream: str, seconds: float, region: Optional[str], endpoint_url: Optional[str], start: str) -> bytes:
    target = resolve_aws(region=region, endpoint_url=endpoint_url)  # the credentials rule, region checked
    control = target.session.client("kinesisvideo", region_name=target.region, endpoint_url=target.endpoint_url)
    endpoint = control.get_data_endpoint(StreamName=stream, APIName="GET_MEDIA")["DataEndpoint"]
    media = target.session.client("kinesis-video-media", region_name=target.region, endpoint_url=endpoint)
    payload = media.get_media(StreamName=stream, StartSelector={"StartSelectorType": start.upper()})["Payload"]
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = payload.read(16 * 1024)
            if not chunk:
                break  # the service ended the response (no newer data)
            chunks.append(chunk)
    finally:
        payload.close()
    return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stream", help="KVS stream name")
    parser.add_argument("out", help="the .mkv file to write")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to capture (default 10)")
    parser.add_argument("--start", default="now", choices=["now", "earliest"], help="where to start (default now)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--endpoint-url", help="e.g. the local emulator's URL (default: AWS)")
    args = parser.parse_args()

    data = capture(args.stream, args.seconds, args.region, args.endpoint_url, args.start)
    files = save_fragments(data, args.out)
    print(f"captured {len(data)} bytes; wrote {', '.join(map(str, files)) or 'nothing'}")
    for fragment in files.incomplete:
        print(f"left out fragment {fragment.fragment_number}: {fragment.reason} ({fragment.frames} frames)")


if __name__ == "__main__":
    main()
