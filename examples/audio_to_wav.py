"""Audio to WAV: named audio tracks of a stream (Amazon Connect's AUDIO_FROM_CUSTOMER / AUDIO_TO_CUSTOMER)
into one WAV file, one channel per track.

    python examples/audio_to_wav.py my-connect-stream call.wav --track AUDIO_FROM_CUSTOMER \\
        --track AUDIO_TO_CUSTOMER --region eu-west-1 --start earliest

AAC, G.711 A-law/u-law, PCM and Opus tracks are decoded to int16 numpy arrays (`track.samples`), so the
same loop feeds a speech-to-text model. `kvs-parser audio` is the command-line equivalent.
"""

from __future__ import annotations

import argparse

from kvs_parser.audio import AudioCollector, write_wav
from kvs_parser.getmedia import GetMediaClient, StartSelector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stream", help="KVS stream name")
    parser.add_argument("out", help="the .wav file to write")
    parser.add_argument("--track", action="append", default=[], help="track name, repeatable (default: all audio)")
    parser.add_argument("--start", default="earliest", help="now | earliest | producer:TIME ... (default earliest)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--endpoint-url", help="e.g. the local emulator's URL (default: AWS)")
    args = parser.parse_args()

    collector = AudioCollector(args.track)
    with GetMediaClient(region_name=args.region, endpoint_url=args.endpoint_url) as client:
        # follow=False: stop at the end of what the stream holds (a finished call) instead of waiting for more.
        stream = client.stream(args.stream, start=StartSelector.parse(args.start), follow=False,
                               on_tracks=collector.on_tracks)
        for frame in stream.frames():
            collector.on_frame(frame)
    tracks = collector.result()
    if not tracks:
        raise SystemExit(f"no matching audio track in {args.stream!r}")
    for track in tracks:
        print(f"{track.name}: {len(track.samples)} samples at {track.sample_rate} Hz, peak {abs(track.samples).max()}")
    frames = write_wav(args.out, tracks)
    channels = sum(track.channels for track in tracks)  # a stereo track is two of them
    print(f"wrote {args.out}: {channels} channel(s), {frames / tracks[0].sample_rate:.2f} s")


if __name__ == "__main__":
    main()
