"""Configuration checked before the first request: region, credentials and endpoint URL.

A missing region or credentials, or a malformed endpoint URL, can never succeed however often it is
retried, so it is raised here, at construction, as a ``ConfigurationError`` whose message names the fix.

The credentials rule, the same for every client, source and command: an ``endpoint_url`` on a loopback
address (127.0.0.0/8, ::1, localhost: the local emulator, which checks no signature) gets placeholder
credentials and region when none are configured; anything else needs real ones.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import boto3

from ..errors import NonRetryableError
from .errors import GetMediaError

log = logging.getLogger(__name__)

PLACEHOLDER_REGION = "us-east-1"  # only signs requests to a loopback endpoint
PLACEHOLDER_KEY = "kvs-parser-local"


class ConfigurationError(GetMediaError, NonRetryableError, ValueError):
    """A configuration mistake that no retry can cure; the message says what to change."""


class NoRegionError(ConfigurationError):
    """No AWS region is configured."""


class MissingCredentialsError(ConfigurationError):
    """No AWS credentials are configured for a non-loopback endpoint."""


class InvalidEndpointError(ConfigurationError):
    """``endpoint_url`` is not an http(s)://host[:port] URL."""


@dataclass(frozen=True)
class AwsTarget:
    """What every request is made with: a boto3 Session, a signing region and an optional endpoint."""

    session: Any  # boto3.Session
    region: str
    endpoint_url: Optional[str]


def check_endpoint_url(endpoint_url: Optional[str]) -> Optional[str]:
    """`endpoint_url` when it is a usable http(s) URL (None stays None); raises InvalidEndpointError."""
    if endpoint_url is None:
        return None
    fix = "give a URL such as http://127.0.0.1:4566 (what `kvs-parser emulate` prints)"
    try:
        parts = urlsplit(endpoint_url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise InvalidEndpointError(f"endpoint URL {endpoint_url!r} is not an http:// or https:// URL with a host "
                                   f"and a valid port: {fix}")
    return endpoint_url


def is_loopback(endpoint_url: Optional[str]) -> bool:
    """True when `endpoint_url` names this machine (the emulator), by address or as localhost."""
    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_aws(
    session: Any = None,
    *,
    region: Optional[str] = None,
    endpoint_url: Optional[str] = None,
    profile_name: Optional[str] = None,
    check_credentials: bool = True,
) -> AwsTarget:
    """The session, region and endpoint to use, after the checks above; raises a ConfigurationError.

    `session` (default: a new boto3 Session of `profile_name`) keeps its own credentials; the credentials
    rule only fills in placeholders where nothing is configured and the endpoint is loopback.
    """
    endpoint_url = check_endpoint_url(endpoint_url)
    local = is_loopback(endpoint_url)
    if session is None:
        session = boto3.Session(profile_name=profile_name)
    if check_credentials and session.get_credentials() is None:
        if not local:
            raise MissingCredentialsError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws configure`, "
                "or choose a profile (AWS_PROFILE); only a loopback endpoint_url (the local emulator) works without"
            )
        log.info("no AWS credentials configured; placeholders for the local endpoint %s", endpoint_url)
        session = boto3.Session(aws_access_key_id=PLACEHOLDER_KEY, aws_secret_access_key=PLACEHOLDER_KEY,
                                region_name=region or session.region_name or PLACEHOLDER_REGION)
    region = region or session.region_name
    if not region:
        if not local:
            raise NoRegionError(
                "no AWS region configured: pass region (--region on the command line, region: in cameras.yaml) "
                "or set AWS_REGION / AWS_DEFAULT_REGION or a profile's region"
            )
        region = PLACEHOLDER_REGION
    return AwsTarget(session, region, endpoint_url)
