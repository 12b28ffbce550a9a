#!/usr/bin/env python3
"""Checks aws-sso-emulator with botocore, the client library the AWS CLI is built on.

Each emulator URL comes from a flag; the Rust test starts the emulators with the settings named
in the flag's help. botocore builds the clients exactly as the AWS CLI does (unsigned, region
us-east-1, endpoint override), so any difference between the emulator and the real wire format
shows up as a botocore error. Prints one line per check and exits 1 on the first failure.
"""

import argparse
import base64
import datetime
import hashlib
import http.client
import re
import secrets
import sys
import time
import traceback
import urllib.parse

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
START_URL = "https://d-1234567890.awsapps.com/start"
SCOPES = ["sso:account:access"]
SESSION = botocore.session.get_session()
NO_RETRIES = {"total_max_attempts": 1}


class CheckFailed(Exception):
    pass


def ensure(condition, message):
    if not condition:
        raise CheckFailed(message)


def client(service, url, **config):
    config = Config(signature_version=UNSIGNED, **config)
    return SESSION.create_client(
        service, region_name="us-east-1", endpoint_url=url, config=config
    )


def expect_error(code, status, call, /, **params):
    """Runs a botocore call that must fail with `code` and HTTP `status`; returns the response."""
    try:
        result = call(**params)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        got_status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        ensure(
            (got, got_status) == (code, status),
            f"expected {code} ({status}), got {got} ({got_status}): {error.response}",
        )
        return error.response
    raise CheckFailed(f"expected {code} ({status}), but the call succeeded: {result}")


def register_device_client(oidc):
    return oidc.register_client(
        clientName="botocore-client-fidelity", clientType="public", scopes=SCOPES
    )


def register_pkce_client(oidc):
    return oidc.register_client(
        clientName="botocore-client-fidelity-pkce",
        clientType="public",
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=START_URL,
        scopes=SCOPES,
    )


def device_token_request(registration, device):
    return {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": DEVICE_GRANT,
        "deviceCode": device["deviceCode"],
    }


def start_device(oidc, registration):
    return oidc.start_device_authorization(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        startUrl=START_URL,
    )


def device_login(url):
    """A whole device-code login, polling like the AWS CLI; returns (registration, token)."""
    oidc = client("sso-oidc", url)
    registration = register_device_client(oidc)
    device = start_device(oidc, registration)
    for _ in range(20):
        try:
            return registration, oidc.create_token(**device_token_request(registration, device))
        except ClientError as error:
            if error.response["Error"]["Code"] != "AuthorizationPendingException":
                raise
    raise CheckFailed("the device code was never approved")


def http_get(url):
    """One GET that does not follow redirects: (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def advance_clock(url, ms):
    """Moves the emulator's clock `ms` later (POST /_emulator/clock), instead of waiting."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", f"/_emulator/clock?advance_ms={ms}", body=b"")
        response = connection.getresponse()
        ensure(response.status == 200, f"POST /_emulator/clock answered {response.status}")
        response.read()
    finally:
        connection.close()


def quote(value):
    # botocore's percent_encode_sequence: RFC 3986, only -._~ left alone.
    return urllib.parse.quote(value, safe="-._~")


def pkce_pair():
    verifier = "".join(
        secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        for _ in range(64)
    )
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize(url, registration, redirect_uri, state, challenge):
    """Opens /authorize as the CLI's browser would; returns the query of the redirect."""
    authorize_url = (
        f"{url}/authorize?response_type=code&client_id={quote(registration['clientId'])}"
        f"&redirect_uri={quote(redirect_uri)}&state={quote(state)}"
        f"&code_challenge_method=S256&scopes={quote(' '.join(SCOPES))}"
        f"&code_challenge={challenge}"
    )
    status, headers, _ = http_get(authorize_url)
    ensure(status == 302, f"/authorize answered {status}, not 302")
    location = headers.get("location") or headers.get("Location")
    ensure(location is not None, "/authorize did not send a Location header")
    base, _, query = location.partition("?")
    ensure(base == redirect_uri, f"redirected to {base}, not {redirect_uri}")
    return urllib.parse.parse_qs(query, keep_blank_values=True)


# ---- the checks, grouped by the emulator they need ----


def check_registration(args):
    oidc = client("sso-oidc", args.default)
    now = time.time()
    device = register_device_client(oidc)
    for member in ("clientId", "clientSecret"):
        ensure(isinstance(device.get(member), str) and device[member], f"no {member}")
    issued, expires = device["clientIdIssuedAt"], device["clientSecretExpiresAt"]
    ensure(abs(issued - now) < 60, f"clientIdIssuedAt {issued} is not now in epoch seconds")
    ensure(expires - issued == 90 * 24 * 3600, f"registration lasts {expires - issued} s, not 90 days")
    pkce = register_pkce_client(oidc)
    ensure(pkce["clientId"] != device["clientId"], "two registrations got the same clientId")


def check_device_flow(args):
    oidc = client("sso-oidc", args.default)
    registration = register_device_client(oidc)
    device = start_device(oidc, registration)
    ensure(re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", device["userCode"]), f"userCode {device['userCode']}")
    ensure(device["verificationUri"] == f"{args.default}/device", device["verificationUri"])
    ensure(
        device["verificationUriComplete"] == f"{args.default}/device?user_code={device['userCode']}",
        device["verificationUriComplete"],
    )
    ensure((device["expiresIn"], device["interval"]) == (600, 1), f"{device}")
    request = device_token_request(registration, device)
    pending = expect_error("AuthorizationPendingException", 400, oidc.create_token, **request)
    ensure(pending.get("error") == "authorization_pending", f"OAuth error field: {pending}")
    token = oidc.create_token(**request)
    ensure(token["tokenType"] == "Bearer", f"tokenType {token['tokenType']}")
    ensure(token["expiresIn"] == 28800, f"expiresIn {token['expiresIn']}")
    ensure(token.get("accessToken") and token.get("refreshToken"), "missing access or refresh token")
    expect_error("InvalidGrantException", 400, oidc.create_token, **request)
    wrong_secret = dict(request, clientSecret="not-the-secret")
    expect_error("InvalidClientException", 401, oidc.create_token, **wrong_secret)
    expect_error("InvalidRequestException", 400, oidc.create_token, **dict(request, deviceCode=""))


def check_refresh(args):
    oidc = client("sso-oidc", args.default)
    registration, token = device_login(args.default)
    refresh = {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "refresh_token",
        "refreshToken": token["refreshToken"],
    }
    refreshed = oidc.create_token(**refresh)
    ensure(refreshed["accessToken"] != token["accessToken"], "the access token did not change")
    ensure(refreshed.get("refreshToken") not in (None, token["refreshToken"]), "not rotated")
    expect_error("InvalidGrantException", 400, oidc.create_token, **refresh)
    sso = client("sso", args.default)
    sso.list_accounts(accessToken=refreshed["accessToken"])


def check_no_rotation(args):
    oidc = client("sso-oidc", args.no_rotate)
    registration, token = device_login(args.no_rotate)
    refresh = {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "refresh_token",
        "refreshToken": token["refreshToken"],
    }
    first = oidc.create_token(**refresh)
    ensure("refreshToken" not in first, f"a refresh token came back: {sorted(first)}")
    second = oidc.create_token(**refresh)
    ensure(second["accessToken"] != first["accessToken"], "the old refresh token stopped working")


def check_slow_down(args):
    oidc = client("sso-oidc", args.slow_down)
    registration = register_device_client(oidc)
    request = device_token_request(registration, start_device(oidc, registration))
    for _ in range(2):
        answer = expect_error("SlowDownException", 400, oidc.create_token, **request)
        ensure(answer.get("error") == "slow_down", f"OAuth error field: {answer}")
    ensure(oidc.create_token(**request)["accessToken"], "no token after slowing down")


def check_expired(args):
    oidc = client("sso-oidc", args.expire)
    registration = register_device_client(oidc)
    device = start_device(oidc, registration)
    ensure(device["expiresIn"] == 1, f"expiresIn {device['expiresIn']}")
    request = device_token_request(registration, device)
    expect_error("AuthorizationPendingException", 400, oidc.create_token, **request)
    advance_clock(args.expire, 1200)
    expect_error("ExpiredTokenException", 400, oidc.create_token, **request)


def check_denied(args):
    oidc = client("sso-oidc", args.deny)
    registration = register_device_client(oidc)
    request = device_token_request(registration, start_device(oidc, registration))
    answer = expect_error("AccessDeniedException", 400, oidc.create_token, **request)
    ensure(answer.get("error") == "access_denied", f"OAuth error field: {answer}")


def check_browser_approval(args):
    oidc = client("sso-oidc", args.browser)
    registration = register_device_client(oidc)
    device = start_device(oidc, registration)
    request = device_token_request(registration, device)
    expect_error("AuthorizationPendingException", 400, oidc.create_token, **request)
    expect_error("AuthorizationPendingException", 400, oidc.create_token, **request)
    status, _, page = http_get(device["verificationUriComplete"])
    ensure(status == 200 and device["userCode"] in page, f"verification page: {status} {page}")
    ensure(oidc.create_token(**request)["accessToken"], "no token after the browser approved")


def check_pkce(args):
    oidc = client("sso-oidc", args.default)
    registration = register_pkce_client(oidc)
    redirect_uri = "http://127.0.0.1:55555/oauth/callback"
    state = "00000000-0000-0000-0000-000000000000 &/+=?"
    verifier, challenge = pkce_pair()
    query = authorize(args.default, registration, redirect_uri, state, challenge)
    ensure(query.get("state") == [state], f"state came back as {query.get('state')}")
    ensure(len(query.get("code", [])) == 1, f"no code in the redirect: {query}")
    exchange = {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "authorization_code",
        "redirectUri": redirect_uri,
        "codeVerifier": verifier,
        "code": query["code"][0],
    }
    token = oidc.create_token(**exchange)
    ensure(token["accessToken"] and token["refreshToken"], f"token: {sorted(token)}")
    expect_error("InvalidGrantException", 400, oidc.create_token, **exchange)

    query = authorize(args.default, registration, redirect_uri, "s", challenge)
    wrong_verifier = dict(exchange, code=query["code"][0], codeVerifier=pkce_pair()[0])
    expect_error("InvalidGrantException", 400, oidc.create_token, **wrong_verifier)

    query = authorize(args.default, registration, redirect_uri, "s", challenge)
    other_port = dict(exchange, code=query["code"][0], redirectUri="http://127.0.0.1:1/oauth/callback")
    expect_error("InvalidGrantException", 400, oidc.create_token, **other_port)


def check_pkce_denied(args):
    oidc = client("sso-oidc", args.authorize_deny)
    registration = register_pkce_client(oidc)
    query = authorize(
        args.authorize_deny, registration, "http://127.0.0.1:4321/oauth/callback", "st", pkce_pair()[1]
    )
    ensure(query.get("error") == ["access_denied"], f"redirect query: {query}")
    ensure(query.get("state") == ["st"] and "code" not in query, f"redirect query: {query}")


def check_portal(args):
    _, token = device_login(args.default)
    access_token = token["accessToken"]
    sso = client("sso", args.default)

    pages = list(
        sso.get_paginator("list_accounts").paginate(
            accessToken=access_token, PaginationConfig={"PageSize": 2}
        )
    )
    accounts = [account for page in pages for account in page["accountList"]]
    ids = [account["accountId"] for account in accounts]
    ensure(len(ids) == args.accounts, f"{len(ids)} accounts listed, expected {args.accounts}")
    ensure(len(set(ids)) == len(ids), f"duplicated accounts: {ids}")
    ensure(len(pages) == (args.accounts + 1) // 2, f"{len(pages)} pages of 2")
    for page in pages[:-1]:
        next_token = page["nextToken"]
        ensure(all(c in next_token for c in "/+="), f"nextToken {next_token!r} lacks / + =")
    ensure(
        accounts[0]["accountName"] == "account-001"
        and accounts[0]["emailAddress"] == "aws+account-001@example.com",
        f"first account: {accounts[0]}",
    )

    for account_id in ids:
        role_pages = list(
            sso.get_paginator("list_account_roles").paginate(
                accessToken=access_token, accountId=account_id, PaginationConfig={"PageSize": 1}
            )
        )
        roles = [role["roleName"] for page in role_pages for role in page["roleList"]]
        ensure(len(roles) == args.roles_per_account, f"{account_id} roles: {roles}")
        ensure(roles == sorted(roles), f"roles are not sorted: {roles}")
        ensure(len(role_pages) == args.roles_per_account, f"{len(role_pages)} pages of 1 role")

    before = datetime.datetime.now(datetime.timezone.utc)
    credentials = sso.get_role_credentials(
        accessToken=access_token, accountId=ids[0], roleName=roles[0]
    )["roleCredentials"]
    expiration = datetime.datetime.fromtimestamp(
        credentials["expiration"] / 1000, datetime.timezone.utc
    )
    lifetime = (expiration - before).total_seconds()
    ensure(
        abs(lifetime - args.credentials_ttl) < 60,
        f"credentials expire in {lifetime:.0f} s, expected about {args.credentials_ttl}",
    )
    ensure(credentials["accessKeyId"].startswith("ASIA"), credentials["accessKeyId"])
    ensure(credentials["secretAccessKey"] and credentials["sessionToken"], "empty credentials")

    # Outside the model, as the service answers it: a role the user does not have, in a known
    # account or an unknown one, is 403 ForbiddenException "No access".
    for account_id, role_name in [("999999999999", roles[0]), (ids[0], "NotAssignedRole")]:
        answer = expect_error(
            "ForbiddenException",
            403,
            sso.get_role_credentials,
            accessToken=access_token,
            accountId=account_id,
            roleName=role_name,
        )
        ensure(answer["Error"]["Message"] == "No access", f"message: {answer['Error']}")

    unvalidated = client("sso", args.default, parameter_validation=False)
    expect_error(
        "InvalidRequestException", 400, unvalidated.list_accounts, accessToken=access_token, maxResults=101
    )
    tampered = pages[0]["nextToken"].replace("+", "-", 1)
    expect_error(
        "InvalidRequestException", 400, sso.list_accounts, accessToken=access_token, nextToken=tampered
    )

    sso.logout(accessToken=access_token)
    answer = expect_error("UnauthorizedException", 401, sso.list_accounts, accessToken=access_token)
    ensure(
        answer["Error"]["Message"] == "Session token not found or invalid",
        f"message: {answer['Error']['Message']!r}",
    )


def check_throttling(args):
    _, token = device_login(args.throttle)
    sso = client("sso", args.throttle, retries=NO_RETRIES)
    sso.list_accounts(accessToken=token["accessToken"])
    answer = expect_error(
        "TooManyRequestsException", 429, sso.list_accounts, accessToken=token["accessToken"]
    )
    ensure(answer["Error"]["Message"] == "Rate exceeded", f"message: {answer['Error']}")
    retry_after = answer["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
    ensure(retry_after == "1", f"Retry-After: {retry_after}")


def check_server_errors(args):
    _, token = device_login(args.fail_first)
    sso = client("sso", args.fail_first, retries=NO_RETRIES)
    expect_error("InternalServerException", 500, sso.list_accounts, accessToken=token["accessToken"])
    retrying = client("sso", args.fail_first, retries={"mode": "standard", "total_max_attempts": 3})
    answer = retrying.list_accounts(accessToken=token["accessToken"])
    attempts = answer["ResponseMetadata"]["RetryAttempts"]
    ensure(attempts == 1, f"botocore retried {attempts} times, expected 1")


def check_throttle_every(args):
    _, token = device_login(args.throttle_every)
    sso = client("sso", args.throttle_every, retries=NO_RETRIES)
    for _ in range(2):
        sso.list_accounts(accessToken=token["accessToken"])
    expect_error("TooManyRequestsException", 429, sso.list_accounts, accessToken=token["accessToken"])
    retrying = client("sso", args.throttle_every, retries={"mode": "standard", "total_max_attempts": 3})
    for _ in range(2):
        retrying.list_accounts(accessToken=token["accessToken"])
    answer = retrying.list_accounts(accessToken=token["accessToken"])
    attempts = answer["ResponseMetadata"]["RetryAttempts"]
    ensure(attempts == 1, f"botocore retried the sixth request {attempts} times, expected 1")


def check_fail_burst(args):
    _, token = device_login(args.fail_burst)
    sso = client("sso", args.fail_burst, retries={"mode": "standard", "total_max_attempts": 4})
    for request in (1, 2):
        answer = sso.list_accounts(accessToken=token["accessToken"])
        attempts = answer["ResponseMetadata"]["RetryAttempts"]
        ensure(attempts == 0, f"request {request} was retried {attempts} times")
    # Requests 3 and 4 are the burst; the third call gets through on request 5.
    third = sso.list_accounts(accessToken=token["accessToken"])
    attempts = third["ResponseMetadata"]["RetryAttempts"]
    ensure(attempts == 2, f"botocore retried through the burst {attempts} times, expected 2")


def check_hang(args):
    _, token = device_login(args.hang)
    impatient = client("sso", args.hang, retries=NO_RETRIES, read_timeout=0.5)
    try:
        impatient.list_accounts(accessToken=token["accessToken"])
    except ReadTimeoutError:
        pass
    else:
        raise CheckFailed("the first portal request did not hang past botocore's read timeout")
    started = time.monotonic()
    impatient.list_accounts(accessToken=token["accessToken"])
    ensure(time.monotonic() - started < 0.5, "the second portal request hung too")


def check_token_expiry(args):
    oidc = client("sso-oidc", args.token_expiry)
    registration, token = device_login(args.token_expiry)
    sso = client("sso", args.token_expiry, retries=NO_RETRIES)
    for _ in range(2):
        sso.list_accounts(accessToken=token["accessToken"])
    expect_error("UnauthorizedException", 401, sso.list_accounts, accessToken=token["accessToken"])
    refreshed = oidc.create_token(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    sso.list_accounts(accessToken=refreshed["accessToken"])


def check_hostile_directory(args):
    _, token = device_login(args.hostile)
    sso = client("sso", args.hostile)
    accounts = [
        account
        for page in sso.get_paginator("list_accounts").paginate(
            accessToken=token["accessToken"], PaginationConfig={"PageSize": 3}
        )
        for account in page["accountList"]
    ]
    names = [account["accountName"] for account in accounts]
    ensure(len(names) == 8, f"{len(names)} accounts: {names}")
    for needle in ("'", '"', "$(", "`", ";", "東京", "\\"):
        ensure(any(needle in name for name in names), f"no {needle!r} in {names}")
    ensure(len(set(names)) == 7, f"expected one name shared by two accounts: {names}")
    first = sso.list_account_roles(accessToken=token["accessToken"], accountId=accounts[0]["accountId"])
    ensure(first["roleList"] == [], f"roles of an account without roles: {first['roleList']}")
    second = sso.list_account_roles(accessToken=token["accessToken"], accountId=accounts[1]["accountId"])
    ensure(len(second["roleList"]) == 1, f"roles of account 2: {second['roleList']}")


CHECKS = [
    ("register_client (device and authorization-code clients)", check_registration),
    ("device flow: pending, token, code used once, bad secret", check_device_flow),
    ("refresh_token grant rotates the refresh token", check_refresh),
    ("--no-rotate-refresh-tokens keeps the refresh token", check_no_rotation),
    ("SlowDownException before the token", check_slow_down),
    ("ExpiredTokenException after --device-code-ttl", check_expired),
    ("AccessDeniedException with --device-approval deny", check_denied),
    ("verificationUriComplete approves with --device-approval browser", check_browser_approval),
    ("PKCE: /authorize redirect, exchange, wrong verifier, wrong redirect", check_pkce),
    ("PKCE: --authorize deny redirects with access_denied", check_pkce_denied),
    ("portal: paging, roles, credentials, errors, logout", check_portal),
    ("portal: 429 TooManyRequestsException with Retry-After", check_throttling),
    ("portal: 500 InternalServerException, retried by botocore", check_server_errors),
    ("portal: --throttle-every 3 throttles one request in three", check_throttle_every),
    ("portal: --fail-burst 2 --fail-burst-every 4, retried through", check_fail_burst),
    ("portal: --hang-first 1 outlasts botocore's read timeout", check_hang),
    ("portal: --token-expires-after-requests 2, then refreshed", check_token_expiry),
    ("portal: hostile names, duplicates and an account without roles", check_hostile_directory),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--default", required=True, help="emulator with default settings")
    parser.add_argument("--accounts", type=int, required=True, help="--accounts of --default")
    parser.add_argument("--roles-per-account", type=int, required=True)
    parser.add_argument("--credentials-ttl", type=int, required=True)
    parser.add_argument("--slow-down", required=True, help="--slow-down 2 --device-approval after:0")
    parser.add_argument("--expire", required=True, help="--device-approval never --device-code-ttl 1")
    parser.add_argument("--deny", required=True, help="--device-approval deny")
    parser.add_argument("--browser", required=True, help="--device-approval browser")
    parser.add_argument("--authorize-deny", required=True, help="--authorize deny")
    parser.add_argument("--no-rotate", required=True, help="--no-rotate-refresh-tokens")
    parser.add_argument("--throttle", required=True, help="--rate-limit 1")
    parser.add_argument("--fail-first", required=True, help="--fail-first 2")
    parser.add_argument("--throttle-every", required=True, help="--throttle-every 3")
    parser.add_argument("--fail-burst", required=True, help="--fail-burst 2 --fail-burst-every 4")
    parser.add_argument("--hang", required=True, help="--hang-first 1 --hang-ms 3000")
    parser.add_argument("--token-expiry", required=True, help="--token-expires-after-requests 2")
    parser.add_argument(
        "--hostile",
        required=True,
        help="--accounts 8 --roles-per-account 1 --accounts-without-roles 1 --name-style hostile",
    )
    args = parser.parse_args()

    for name, check in CHECKS:
        try:
            check(args)
        except CheckFailed as failure:
            print(f"FAIL {name}: {failure}", flush=True)
            return 1
        except ClientError as error:
            print(f"FAIL {name}: unexpected {error.response['Error']}: {error}", flush=True)
            return 1
        except Exception as error:  # a botocore parse error, a refused connection...
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
            traceback.print_exc()
            return 1
        print(f"ok   {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
