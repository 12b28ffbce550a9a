#!/usr/bin/env python3
"""Checks aws-sso-emulator's STS with botocore's own STS client and signer.

The role credentials to start from (issued by the emulator's portal) come in the environment:
SOURCE_ACCESS_KEY_ID, SOURCE_SECRET_ACCESS_KEY, SOURCE_SESSION_TOKEN. The emulator URL and the
check to run come as flags:

  chain   AssumeRole twice (the second hop signed with the first hop's credentials),
          GetCallerIdentity with the last credentials, by POST and by a presigned GET (plain,
          and EKS style with a signed x-k8s-aws-id header), then every refusal: a wrong secret,
          an unknown key, a wrong session token, bad role ARNs and durations, a denied role
          (--deny-role), and credentials expired by the emulator's clock.
  retry   One GetCallerIdentity with botocore's standard retries and a 2 s read timeout, for an
          emulator started with --sts-fault: it must succeed in the end.

Prints one line per check on stderr, a JSON summary on stdout, and exits 1 on the first failure.
"""

import argparse
import datetime
import http.client
import json
import os
import secrets
import sys
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

SESSION = botocore.session.get_session()
NO_RETRIES = {"total_max_attempts": 1}
NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


class CheckFailed(Exception):
    pass


def ensure(condition, message):
    if not condition:
        raise CheckFailed(message)


def sts(url, key, secret, token, **config):
    config.setdefault("retries", NO_RETRIES)
    return SESSION.create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(**config),
    )


def sts_of(url, credentials):
    return sts(
        url,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


def expect_error(code, status, call, /, **params):
    """Runs a botocore call that must fail with `code` and HTTP `status`; returns the error."""
    try:
        result = call(**params)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        got_status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        ensure(
            (got, got_status) == (code, status),
            f"expected {code} ({status}), got {got} ({got_status}): {error.response}",
        )
        ensure(error.response["Error"].get("Message"), f"no message: {error.response}")
        return error.response
    raise CheckFailed(f"expected {code} ({status}), but the call succeeded: {result}")


def http_request(url, method, target, headers=None):
    """One plain HTTP request; returns (status, body text)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def emulator_clock(url, advance_ms):
    status, body = http_request(url, "POST", f"/_emulator/clock?advance_ms={advance_ms}")
    ensure(status == 200, f"the clock hook answered {status}: {body}")
    return json.loads(body)["nowMs"]


def fetch_presigned(url, presigned, headers=None):
    """GETs a presigned URL (on the emulator) as a plain client would; returns (status, XML)."""
    parts = urllib.parse.urlsplit(presigned)
    ensure(
        f"{parts.scheme}://{parts.netloc}" == url,
        f"presigned for another host: {presigned}",
    )
    status, body = http_request(url, "GET", f"{parts.path}?{parts.query}", headers)
    return status, ET.fromstring(body)


def text(root, path):
    found = root.find(path, NS)
    ensure(found is not None and found.text, f"no {path} in the answer")
    return found.text


def eks_presign(client, cluster):
    """A presigned GetCallerIdentity URL with a signed x-k8s-aws-id header, as EKS tokens are."""

    def take_cluster(params, context, **kwargs):
        if "x-k8s-aws-id" in params:
            context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def add_header(request, **kwargs):
        if "x-k8s-aws-id" in request.context:
            request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", take_cluster)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    return client.generate_presigned_url(
        "get_caller_identity",
        Params={"x-k8s-aws-id": cluster},
        ExpiresIn=60,
        HttpMethod="GET",
    )


def check_chain(args, source):
    summary = {}
    first = sts(args.url, *source)

    me = first.get_caller_identity()
    ensure(
        ":assumed-role/AWSReservedSSO_" in me["Arn"] and me["Account"] == args.account,
        f"the portal's credentials are not an SSO role session of {args.account}: {me}",
    )
    ensure(me["UserId"].startswith("AROA"), f"UserId: {me}")
    summary["source"] = me["Arn"]
    print("ok: GetCallerIdentity with the portal's credentials", file=sys.stderr)

    before_ms = emulator_clock(args.url, 0)
    hop_one_arn = f"arn:aws:iam::{args.hop_account}:role/hop-one"
    hop_one = first.assume_role(
        RoleArn=hop_one_arn,
        RoleSessionName="hop-one",
        DurationSeconds=900,
        ExternalId="external-id-1",
    )
    user = hop_one["AssumedRoleUser"]
    ensure(
        user["Arn"] == f"arn:aws:sts::{args.hop_account}:assumed-role/hop-one/hop-one",
        f"AssumedRoleUser: {user}",
    )
    ensure(
        user["AssumedRoleId"].startswith("AROA") and user["AssumedRoleId"].endswith(":hop-one"),
        f"AssumedRoleId: {user}",
    )
    one = hop_one["Credentials"]
    ensure(one["AccessKeyId"].startswith("ASIA"), f"AccessKeyId: {one['AccessKeyId']}")
    ensure(one["AccessKeyId"] != source[0], "the same key came back")
    ensure(len(one["SecretAccessKey"]) == 40, "the secret key is not 40 characters")
    ensure(isinstance(one["Expiration"], datetime.datetime), f"Expiration: {one['Expiration']}")
    lifetime = one["Expiration"].timestamp() - before_ms / 1000
    ensure(895 <= lifetime <= 905, f"asked 900 s, got {lifetime} s")
    print("ok: AssumeRole from the portal's credentials", file=sys.stderr)

    second = sts_of(args.url, one)
    hop_two_arn = f"arn:aws:iam::{args.hop_account}:role/team/deep/hop-two"
    hop_two = second.assume_role(RoleArn=hop_two_arn, RoleSessionName="second@hop")
    two = hop_two["Credentials"]
    lifetime = two["Expiration"].timestamp() - before_ms / 1000
    ensure(3595 <= lifetime <= 3610, f"the default lifetime is 3600 s, got {lifetime} s")
    ensure(
        hop_two["AssumedRoleUser"]["Arn"]
        == f"arn:aws:sts::{args.hop_account}:assumed-role/hop-two/second@hop",
        f"the role path is not in the session ARN: {hop_two['AssumedRoleUser']}",
    )
    print("ok: AssumeRole from AssumeRole's credentials", file=sys.stderr)

    last = sts_of(args.url, two)
    me = last.get_caller_identity()
    ensure(me["Arn"] == hop_two["AssumedRoleUser"]["Arn"], f"Arn: {me}")
    ensure(me["UserId"] == hop_two["AssumedRoleUser"]["AssumedRoleId"], f"UserId: {me}")
    ensure(me["Account"] == args.hop_account, f"Account: {me}")
    summary["last"] = me["Arn"]
    print("ok: GetCallerIdentity with the second hop's credentials", file=sys.stderr)

    presigned = last.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    ensure("X-Amz-Security-Token=" in presigned, f"no token in {presigned}")
    status, root = fetch_presigned(args.url, presigned)
    ensure(status == 200, f"the presigned GET answered {status}: {ET.tostring(root)}")
    ensure(text(root, ".//sts:Arn") == me["Arn"], "the presigned GET names another caller")
    tampered = presigned.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    status, root = fetch_presigned(args.url, tampered)
    ensure(
        (status, text(root, ".//sts:Code")) == (403, "SignatureDoesNotMatch"),
        f"a changed X-Amz-Expires got {status}",
    )
    print("ok: a presigned GetCallerIdentity URL, fetched with a plain GET", file=sys.stderr)

    eks = eks_presign(sts_of(args.url, two), "my-cluster")
    ensure("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" in eks, f"x-k8s-aws-id unsigned: {eks}")
    status, root = fetch_presigned(args.url, eks, {"x-k8s-aws-id": "my-cluster"})
    ensure(status == 200, f"the EKS-style GET answered {status}: {ET.tostring(root)}")
    status, root = fetch_presigned(args.url, eks, {"x-k8s-aws-id": "other-cluster"})
    ensure(
        (status, text(root, ".//sts:Code")) == (403, "SignatureDoesNotMatch"),
        f"another cluster's header got {status}",
    )
    print("ok: an EKS-style presigned URL needs its signed header", file=sys.stderr)

    wrong_secret = sts(args.url, one["AccessKeyId"], "x" * 40, one["SessionToken"])
    expect_error("SignatureDoesNotMatch", 403, wrong_secret.get_caller_identity)
    unknown = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    stranger = sts(args.url, unknown, one["SecretAccessKey"], one["SessionToken"])
    expect_error("InvalidClientTokenId", 403, stranger.get_caller_identity)
    wrong_token = sts(args.url, one["AccessKeyId"], one["SecretAccessKey"], two["SessionToken"])
    expect_error("InvalidClientTokenId", 403, wrong_token.get_caller_identity)
    no_token = sts(args.url, one["AccessKeyId"], one["SecretAccessKey"], None)
    expect_error("InvalidClientTokenId", 403, no_token.get_caller_identity)
    print("ok: a wrong secret, an unknown key, a wrong or missing token", file=sys.stderr)

    for bad_arn in [
        "arn:aws:iam::12345:role/short-account",
        "arn:aws:iam::123456789012:user/not-a-role",
        "arn:aws:s3:::a-bucket-not-a-role-at-all",
        "arn:aws:iam::123456789012:role/bad*name",
    ]:
        expect_error(
            "ValidationError",
            400,
            second.assume_role,
            RoleArn=bad_arn,
            RoleSessionName="s1",
        )
    expect_error(
        "ValidationError",
        400,
        second.assume_role,
        RoleArn=hop_one_arn,
        RoleSessionName="bad/name",
    )
    error = expect_error(
        "ValidationError",
        400,
        second.assume_role,
        RoleArn=hop_one_arn,
        RoleSessionName="too-long",
        DurationSeconds=7200,
    )
    ensure("role chaining" in error["Error"]["Message"], f"{error['Error']}")
    print("ok: bad role ARNs, session names and durations", file=sys.stderr)

    error = expect_error(
        "AccessDenied", 403, second.assume_role, RoleArn=args.deny_role, RoleSessionName="denied"
    )
    ensure(args.deny_role in error["Error"]["Message"], f"{error['Error']}")
    print("ok: a denied role", file=sys.stderr)

    # 15 min 10 s later by the emulator's clock: the first hop (900 s) has expired, while the
    # second (3600 s) is good but signed too far from the emulator's time.
    emulator_clock(args.url, 910_000)
    error = expect_error("ExpiredToken", 400, second.get_caller_identity)
    expect_error("ExpiredToken", 400, second.assume_role, RoleArn=hop_one_arn, RoleSessionName="late")
    error = expect_error("SignatureDoesNotMatch", 403, last.get_caller_identity)
    ensure("Signature expired" in error["Error"]["Message"], f"{error['Error']}")
    emulator_clock(args.url, -910_000)
    ensure(last.get_caller_identity()["Arn"] == me["Arn"], "the clock moved back")
    print("ok: expired credentials, and a signature too far from the clock", file=sys.stderr)

    summary["hopOneKey"] = one["AccessKeyId"]
    summary["hopTwoKey"] = two["AccessKeyId"]
    return summary


def check_retry(args, source):
    client = sts(
        args.url,
        *source,
        retries={"mode": "standard", "total_max_attempts": 3},
        read_timeout=2,
        connect_timeout=2,
    )
    me = client.get_caller_identity()
    print("ok: GetCallerIdentity succeeded after retries", file=sys.stderr)
    return {"arn": me["Arn"], "attempts": me["ResponseMetadata"].get("RetryAttempts")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=["chain", "retry"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--account", help="the account of the source credentials")
    parser.add_argument("--hop-account", default="210987654321")
    parser.add_argument("--deny-role", help="a role ARN the emulator refuses")
    args = parser.parse_args()
    source = (
        os.environ["SOURCE_ACCESS_KEY_ID"],
        os.environ["SOURCE_SECRET_ACCESS_KEY"],
        os.environ["SOURCE_SESSION_TOKEN"],
    )
    try:
        summary = check_chain(args, source) if args.check == "chain" else check_retry(args, source)
    except Exception:  # noqa: BLE001 - any failure is reported whole
        traceback.print_exc()
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
