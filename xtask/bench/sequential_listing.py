"""The reference for `cargo xtask bench`: list every account and role one request at a time with
botocore's paginators, as the Python tools people use today do.

Usage: sequential_listing.py ENDPOINT_URL TOKEN_FILE
Prints the number of (account, role) pairs on stdout.
"""

import json
import sys

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config


def main(endpoint, token_file):
    with open(token_file) as f:
        token = json.load(f)["accessToken"]
    client = botocore.session.get_session().create_client(
        "sso", region_name="us-east-1", endpoint_url=endpoint,
        config=Config(signature_version=UNSIGNED))
    pairs = 0
    for page in client.get_paginator("list_accounts").paginate(accessToken=token):
        for account in page["accountList"]:
            roles = client.get_paginator("list_account_roles").paginate(
                accessToken=token, accountId=account["accountId"])
            for roles_page in roles:
                pairs += len(roles_page["roleList"])
    print(pairs)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
