#!/usr/bin/env python3
"""Logs in to aws-sso-emulator as the AWS CLI v2 does, with botocore, in the setup that
`eval "$(aws-sso-emulator env ...)"` made: AWS_CONFIG_FILE, AWS_PROFILE, the endpoint variables
and BROWSER all come from the environment, nothing from this script.

Usage: offline_login.py device   -> the device flow of the AWS CLI's SSOTokenFetcher
       offline_login.py pkce     -> the authorization code flow with PKCE of its
                                    SSOTokenFetcherAuth and AuthCodeFetcher
Either way the verification URL goes to Python's webbrowser, which runs BROWSER and waits for
it to exit, exactly as the AWS CLI opens it. Then the token is cached where botocore reads it,
the accounts and roles are listed, and botocore's own SSO credential provider gets role
credentials for the profile. Prints one JSON object on stdout; never prints a secret.

The AWS CLI's fetchers ship only inside the AWS CLI v2, not in botocore from PyPI, so their
steps are followed here with botocore's sso-oidc client.
"""

import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import sys
import time
import urllib.parse
import webbrowser

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import JSONFileCache
from botocore.exceptions import ClientError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def fail(message):
    raise SystemExit("offline_login.py: " + message)


def session_and_sso_config():
    session = botocore.session.Session()
    profile_name = os.environ.get("AWS_PROFILE") or fail("AWS_PROFILE is not set")
    profile = session.full_config["profiles"].get(profile_name) or fail(
        "no profile %s in AWS_CONFIG_FILE" % profile_name
    )
    name = profile.get("sso_session") or fail("the profile has no sso_session")
    sso = session.full_config["sso_sessions"].get(name) or fail("no sso-session %s" % name)
    scopes = [s.strip() for s in sso.get("sso_registration_scopes", "").split(",") if s.strip()]
    return session, profile, name, sso, scopes


def oidc_client(session, region):
    # The endpoint is AWS_ENDPOINT_URL_SSO_OIDC, which botocore reads itself.
    return session.create_client(
        "sso-oidc", region_name=region, config=Config(signature_version=UNSIGNED)
    )


def open_browser(url):
    # As the AWS CLI's OpenBrowserHandler: webbrowser runs $BROWSER and waits for it.
    if not webbrowser.open_new_tab(url):
        fail("the browser command (BROWSER=%s) failed" % os.environ.get("BROWSER"))


def device_flow(oidc, sso, scopes):
    registration = oidc.register_client(
        clientName="botocore-client-offline", clientType="public", scopes=scopes
    )
    device = oidc.start_device_authorization(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        startUrl=sso["sso_start_url"],
    )
    open_browser(device["verificationUriComplete"])
    interval = device.get("interval", 5)
    deadline = time.time() + device["expiresIn"]
    while time.time() < deadline:
        try:
            token = oidc.create_token(
                grantType=DEVICE_GRANT,
                clientId=registration["clientId"],
                clientSecret=registration["clientSecret"],
                deviceCode=device["deviceCode"],
            )
            return registration, token
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "SlowDownException":
                interval += 5
            elif code != "AuthorizationPendingException":
                raise
        time.sleep(interval)
    fail("the device code expired before it was approved")


class CallbackHandler(http.server.BaseHTTPRequestHandler):
    """The AWS CLI's OAuthCallbackHandler: answers first, then reads the query."""

    received = None
    errors = []

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html><body>" + b"You may close this window. " * 12000 + b"</body></html>")
        CallbackHandler.received = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)

    def handle(self):
        try:
            super().handle()
        except OSError as error:  # BrokenPipeError and its kind: the browser hung up.
            CallbackHandler.errors.append(type(error).__name__)


def pkce_flow(oidc, sso, scopes):
    server = http.server.HTTPServer(("127.0.0.1", 0), CallbackHandler)
    server.timeout = 10
    redirect_uri = "http://127.0.0.1:%d/oauth/callback" % server.server_port
    registration = oidc.register_client(
        clientName="botocore-client-offline-pkce",
        clientType="public",
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=sso["sso_start_url"],
        scopes=scopes,
    )
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_hex(16)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": registration["clientId"],
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": " ".join(scopes),
            "code_challenge": challenge.decode().rstrip("="),
        },
        quote_via=urllib.parse.quote,
    )
    # The browser runs (and is waited for) before the callback server handles anything.
    open_browser(os.environ["AWS_ENDPOINT_URL_SSO_OIDC"].rstrip("/") + "/authorize?" + query)
    deadline = time.time() + 30
    while CallbackHandler.received is None and time.time() < deadline:
        server.handle_request()
    server.server_close()
    if CallbackHandler.errors:
        fail("the callback could not answer the browser: %s" % CallbackHandler.errors)
    received = CallbackHandler.received or fail("the callback was never reached")
    if received.get("state") != [state]:
        fail("the callback got another state")
    if "code" not in received:
        fail("the callback got no code: %s" % sorted(received))
    token = oidc.create_token(
        grantType="authorization_code",
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        code=received["code"][0],
        redirectUri=redirect_uri,
        codeVerifier=verifier,
    )
    return registration, token


def cache_token(name, sso, registration, token):
    """Writes the token as the AWS CLI does, where botocore's SSOTokenProvider reads it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = {
        "startUrl": sso["sso_start_url"],
        "region": sso["sso_region"],
        "accessToken": token["accessToken"],
        "expiresAt": iso(now + datetime.timedelta(seconds=token["expiresIn"])),
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": iso(
            datetime.datetime.fromtimestamp(registration["clientSecretExpiresAt"], datetime.timezone.utc)
        ),
    }
    if "refreshToken" in token:
        entry["refreshToken"] = token["refreshToken"]
    cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "sso", "cache")))
    cache[hashlib.sha1(name.encode()).hexdigest()] = entry


def main(flow):
    session, profile, name, sso, scopes = session_and_sso_config()
    oidc = oidc_client(session, sso["sso_region"])
    registration, token = {"device": device_flow, "pkce": pkce_flow}[flow](oidc, sso, scopes)
    cache_token(name, sso, registration, token)

    portal = session.create_client(
        "sso", region_name=sso["sso_region"], config=Config(signature_version=UNSIGNED)
    )
    accounts = portal.list_accounts(accessToken=token["accessToken"])["accountList"]
    roles = portal.list_account_roles(
        accessToken=token["accessToken"], accountId=profile["sso_account_id"]
    )["roleList"]
    credentials = session.get_credentials()
    if credentials is None:
        fail("botocore found no credentials for the profile")
    frozen = credentials.get_frozen_credentials()
    print(
        json.dumps(
            {
                "flow": flow,
                "accounts": sorted(a["accountId"] for a in accounts),
                "roles": sorted(r["roleName"] for r in roles),
                "method": credentials.method,
                "accessKeyId": frozen.access_key,
                "hasSecretKey": bool(frozen.secret_key),
                "hasSessionToken": bool(frozen.token),
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("device", "pkce"):
        raise SystemExit(__doc__)
    main(sys.argv[1])
