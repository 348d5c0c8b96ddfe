"""Local development without AWS: the embedded KVS emulator, a synthetic camera, and real boto3 GetMedia.

    python examples/local_emulator.py

The emulator serves the Kinesis Video Streams APIs on 127.0.0.1 (no credentials needed there: placeholder
ones are used). Each synthetic picture draws its frame index as a 6 x 4 grid of black/white blocks, so
`read_index` can check that every frame arrives, once and in order. Point your own code at
`emulator.endpoint_url` (or run `kvs-parser emulate --live cam` in another terminal and pass its URL).
"""

from __future__ import annotations

import argparse

from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.source import KVSGetMediaFrameSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30, help="frames to read (default 30)")
    args = parser.parse_args()

    with Emulator() as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(width=320, height=240, fps=15, fragment_duration=1.0))
        print(f"emulator at {emulator.endpoint_url}")
        with KVSGetMediaFrameSource("cam", stream_name="cam", endpoint_url=emulator.endpoint_url,
                                    start_selector="earliest", pixel_format="rgb24") as source:
            indices = []
            while len(indices) < args.frames:
                ok, image = source.read_frame()
                if not ok:
                    break
                indices.append(read_index(image))
    expected = list(range(indices[0], indices[0] + len(indices))) if indices else []
    print(f"read {len(indices)} frames, indices {indices[0] if indices else '-'}..{indices[-1] if indices else '-'}, "
          f"{'in order, none missing' if indices == expected else 'OUT OF ORDER'}")


if __name__ == "__main__":
    main()
