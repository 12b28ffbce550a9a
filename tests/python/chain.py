"""botocore resolving a chained profile (role_arn + source_profile) as the AWS CLI does: the
assume-role provider caches in ~/.aws/cli/cache (awscli's customizations/assumerole.py sets that
JSONFileCache), so the CLI and aws-sso share assumed roles both ways.

Usage: chain.py credentials PROFILE -> the profile's credentials, from the cache or AssumeRole
Prints one JSON object on stdout; never prints a secret.
"""

import json
import os
import sys

import botocore.session
from botocore.utils import JSONFileCache

CLI_CACHE = os.path.expanduser(os.path.join("~", ".aws", "cli", "cache"))


def credentials(profile):
    session = botocore.session.Session(profile=profile)
    resolver = session.get_component("credential_provider")
    resolver.get_provider("assume-role").cache = JSONFileCache(CLI_CACHE)
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


if __name__ == "__main__":
    command, profile = sys.argv[1], sys.argv[2]
    {"credentials": credentials}[command](profile)
