"""Saving KVS fragments as standalone Matroska files that players open and seek in.

GetMedia output is a chain of unknown-size Segments, one per fragment, without Cues: players show no
duration and cannot seek. `save_fragments` rewrites chosen fragments as one known-size Segment with a
SeekHead, Duration and Cues, merging consecutive fragments with identical tracks into one file and
starting a new file when the tracks change (the role of the Java library's OutputSegmentMerger).
"""

from __future__ import annotations

from ._fragments import FragmentMedia, iter_fragment_media
from ._merge import FragmentFilter, IncompleteFragment, SavedFiles, save_fragments
from ._writer import MkvFileWriter, track_spec

__all__ = [
    "FragmentFilter",
    "FragmentMedia",
    "IncompleteFragment",
    "MkvFileWriter",
    "SavedFiles",
    "iter_fragment_media",
    "save_fragments",
    "track_spec",
]
