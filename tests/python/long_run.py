"""botocore as a long-running job under `aws-sso-env exec --server`.

Usage: long_run.py SECONDS [INTERVAL]
Reads credentials through botocore's own provider chain (which must pick the container
provider) every INTERVAL seconds (default a quarter) for SECONDS, as an SDK in a long job would
before each call.
Prints one JSON object on stdout: the provider, how many reads succeeded, which access key ids
were handed out (in order of first appearance) and any error; never prints a secret.
"""

import json
import sys
import time

import botocore.session


def main(seconds, interval):
    session = botocore.session.get_session()
    creds = session.get_credentials()
    if creds is None:
        raise SystemExit("botocore found no credentials")
    reads, keys, error = 0, [], None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            frozen = creds.get_frozen_credentials()
        except Exception as e:  # the test wants to see what failed, not a traceback
            error = "%s: %s" % (type(e).__name__, e)
            break
        if not (frozen.access_key and frozen.secret_key and frozen.token):
            error = "incomplete credentials"
            break
        reads += 1
        if frozen.access_key not in keys:
            keys.append(frozen.access_key)
        time.sleep(interval)
    print(json.dumps({"method": creds.method, "reads": reads, "keys": keys, "error": error}))


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.25)
