"""(HTTP method, path) -> (operation name, handler), as the botocore service models define the paths."""

from __future__ import annotations

from . import _archive as archive
from . import _control as control
from . import _hls as hls
from . import _media as media
from ._server import Routes

ROUTES: Routes = {
    ("POST", "/getDataEndpoint"): ("GetDataEndpoint", control.get_data_endpoint),
    ("POST", "/describeStream"): ("DescribeStream", control.describe_stream),
    ("POST", "/listStreams"): ("ListStreams", control.list_streams),
    ("POST", "/createStream"): ("CreateStream", control.create_stream),
    ("POST", "/deleteStream"): ("DeleteStream", control.delete_stream),
    ("POST", "/getMedia"): ("GetMedia", media.get_media),
    ("POST", "/listFragments"): ("ListFragments", archive.list_fragments),
    ("POST", "/getMediaForFragmentList"): ("GetMediaForFragmentList", archive.get_media_for_fragment_list),
    ("POST", "/getHLSStreamingSessionURL"): ("GetHLSStreamingSessionURL", hls.get_hls_streaming_session_url),
    ("GET", hls.PREFIX + "getHLSMasterPlaylist.m3u8"): ("GetHLSMasterPlaylist", hls.master_playlist),
    ("GET", hls.PREFIX + "getHLSMediaPlaylist.m3u8"): ("GetHLSMediaPlaylist", hls.media_playlist),
    ("GET", hls.PREFIX + "getTSFragment.ts"): ("GetTSFragment", hls.ts_fragment),
    ("GET", hls.PREFIX + "getMP4InitFragment.mp4"): ("GetMP4InitFragment", hls.mp4_init),
    ("GET", hls.PREFIX + "getMP4MediaFragment.mp4"): ("GetMP4MediaFragment", hls.mp4_media),
}
