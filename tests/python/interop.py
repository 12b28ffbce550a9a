"""botocore (the AWS CLI's library) reading and refreshing the caches aws-sso writes.

Usage: interop.py credentials PROFILE   -> role credentials through the SSO provider
       interop.py refresh PROFILE       -> the SSO token, refreshed by botocore when near expiry
Prints one JSON object on stdout; never prints a secret.
"""

import json
import sys

import botocore.session
from botocore.tokens import SSOTokenProvider


def credentials(profile):
    session = botocore.session.Session(profile=profile)
    creds = session.get_credentials()
    if creds is None:
        raise SystemExit("botocore found no credentials for profile %s" % profile)
    frozen = creds.get_frozen_credentials()
    print(json.dumps({
        "method": creds.method,
        "accessKeyId": frozen.access_key,
        "hasSecretKey": bool(frozen.secret_key),
        "hasSessionToken": bool(frozen.token),
    }))


def refresh(profile):
    session = botocore.session.Session(profile=profile)
    token = SSOTokenProvider(session).load_token()
    if token is None:
        raise SystemExit("botocore found no SSO token for profile %s" % profile)
    frozen = token.get_frozen_token()
    print(json.dumps({"expiration": frozen.expiration.isoformat()}))


if __name__ == "__main__":
    command, profile = sys.argv[1], sys.argv[2]
    {"credentials": credentials, "refresh": refresh}[command](profile)
