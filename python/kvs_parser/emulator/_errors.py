"""AWS errors as botocore expects them from a rest-json service: status, x-amzn-ErrorType, JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

STATUS = {
    "ResourceNotFoundException": 404,
    "ClientLimitExceededException": 400,
    "ConnectionLimitExceededException": 400,
    "InvalidArgumentException": 400,
    "InvalidEndpointException": 400,
    "NotAuthorizedException": 401,
    "ResourceInUseException": 400,
    "UnsupportedStreamMediaTypeException": 400,
    "NoDataRetentionException": 400,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
    "KMSThrottlingException": 400,
}


@dataclass
class AwsError(Exception):
    code: str
    message: str = ""
    status: Optional[int] = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def response(self, request_id: str) -> Tuple[int, Dict[str, str], bytes]:
        body = json.dumps({"Message": self.message or self.code}).encode()
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": f"{self.code}:http://internal.amazon.com/coral/com.amazonaws.kinesisvideo/",
            "x-amzn-RequestId": request_id,
        }
        return self.status or STATUS.get(self.code, 400), headers, body
