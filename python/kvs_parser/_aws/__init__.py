"""AWS plumbing shared by the GetMedia and HLS sources: endpoint resolution, backoff, pacing and error
classification. Private: the public names (RetryPolicy, the typed errors) are re-exported by
`kvs_parser.getmedia`."""
