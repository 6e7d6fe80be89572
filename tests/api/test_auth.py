"""SigV4: verification matches what botocore signs, and each failure has AWS's error code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from candor.api import sigv4

from .conftest import OBAMA, REGION, Server, candor, post

KEY, SECRET = "CNDRTESTKEY000000000", "s3cr3t/with+chars"


def _signed(url: str, body: bytes = b"{}", **headers: str) -> sigv4.Request:
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "RekognitionService.DetectFaces", **headers})
    SigV4Auth(Credentials(KEY, SECRET), "rekognition", REGION).add_auth(request)
    path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
    hdrs: dict[str, list[str]] = {"host": [url.split("://", 1)[1].split("/", 1)[0]]}
    for k, v in request.headers.items():
        hdrs.setdefault(k.lower(), []).append(v)
    return sigv4.Request("POST", "/" + path, query, hdrs, body)


def _verify(req: sigv4.Request, **kw: Any) -> str:
    return sigv4.verify(req, lambda k: k if k == KEY else None, lambda _: SECRET, **kw)


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8085", "http://localhost:8085/", "http://h:1/a%20b/./c/../d",
     "http://h:1/?b=2&a=1&a=0&x=%2F%20", "http://[::1]:8085/prefix/"],
)
def test_verifies_what_botocore_signs(url: str) -> None:
    assert _verify(_signed(url)) == KEY


def test_header_whitespace_is_trimmed_like_botocore() -> None:
    assert _verify(_signed("http://h:1/", **{"X-Custom": "  a   b  "})) == KEY


def test_changed_request_fails() -> None:
    req = _signed("http://h:1/")
    for changed in (
        sigv4.Request(req.method, req.path, req.query, req.headers, b'{"x": 1}'),
        sigv4.Request(req.method, "/other", req.query, req.headers, req.body),
        sigv4.Request(req.method, req.path, req.query,
                      {**req.headers, "x-amz-target": ["RekognitionService.DeleteCollection"]},
                      req.body),
    ):
        with pytest.raises(sigv4.InvalidSignatureException, match="does not match"):
            _verify(changed)


def test_clock_skew_both_ways() -> None:
    req = _signed("http://h:1/")
    now = datetime.now(timezone.utc)
    with pytest.raises(sigv4.InvalidSignatureException, match=r"Signature expired.*time skew"):
        _verify(req, now=now + timedelta(minutes=6))
    with pytest.raises(sigv4.InvalidSignatureException, match="not yet current"):
        _verify(req, now=now - timedelta(minutes=6))
    assert _verify(req, now=now + timedelta(minutes=4)) == KEY


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("AWS AKID:sig", sigv4.IncompleteSignatureException),
        ("AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/rekognition/aws4_request",
         sigv4.IncompleteSignatureException),
        ("AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/rekognition, SignedHeaders=host, "
         "Signature=00", sigv4.IncompleteSignatureException),
    ],
)
def test_malformed_authorization(authorization: str, error: type[Exception]) -> None:
    req = _signed("http://h:1/")
    with pytest.raises(error):
        _verify(sigv4.Request(req.method, req.path, req.query,
                              {**req.headers, "authorization": [authorization]}, req.body))


def test_scope_must_name_rekognition() -> None:
    request = AWSRequest(method="POST", url="http://h:1/", data=b"{}",
                         headers={"X-Amz-Target": "RekognitionService.DetectFaces"})
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(request)
    hdrs = {k.lower(): [v] for k, v in request.headers.items()} | {"host": ["h:1"]}
    with pytest.raises(sigv4.InvalidSignatureException, match="correct service"):
        _verify(sigv4.Request("POST", "/", "", hdrs, b"{}"))


# --- through the running server ---------------------------------------------------------------


def test_wrong_secret(server: Server) -> None:
    client = server.client(secret="not-the-secret")
    with pytest.raises(ClientError) as exc:
        client.detect_faces(Image={"Bytes": OBAMA.read_bytes()})
    client.close()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "does not match" in exc.value.response["Error"]["Message"]


def test_unknown_key(server: Server) -> None:
    client = server.client(key_id="CNDRNOSUCHKEY0000000")
    with pytest.raises(ClientError) as exc:
        client.list_collections()
    client.close()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert exc.value.response["Error"]["Message"].startswith(sigv4.INVALID_TOKEN)


def test_expired_timestamp(server: Server) -> None:
    r = post(server, "DetectFaces", when=datetime.now(timezone.utc) - timedelta(minutes=10))
    assert (r.status, r.code) == (400, "InvalidSignatureException")
    assert "Signature expired" in r.body["message"] and "time skew" in r.body["message"]


def test_body_changed_after_signing(server: Server) -> None:
    r = post(server, "DetectFaces", b'{"Image": {"S3Object": {"Bucket": "aaa", "Name": "a"}}}',
             send_body=b'{"Image": {"S3Object": {"Bucket": "bbb", "Name": "b"}}}')
    assert (r.status, r.code) == (400, "InvalidSignatureException")
    # With the payload hash in a header, the mismatch is named as such.
    r = post(server, "DetectFaces", b'{"a": 1}', send_body=b'{"b": 2}',
             headers={"X-Amz-Content-SHA256": "3" * 64})
    assert (r.status, r.code) == (400, "InvalidSignatureException")
    assert "x-amz-content-sha256" in r.body["message"]


def test_missing_authentication(server: Server) -> None:
    r = post(server, "DetectFaces", sign=False)
    assert (r.status, r.code) == (400, "MissingAuthenticationTokenException")


def test_session_tokens_are_refused(server: Server) -> None:
    import boto3

    client = boto3.client("rekognition", endpoint_url=server.url, region_name=REGION,
                          aws_access_key_id=server.key_id, aws_secret_access_key=server.secret,
                          aws_session_token="some-sts-token")
    with pytest.raises(ClientError) as exc:
        client.list_collections()
    client.close()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_created_key_works_until_revoked(server: Server) -> None:
    created = candor("keys", "create", "--account", "team-a", data_dir=server.data_dir)
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.split("AWS_ACCESS_KEY_ID=")[1].split()[0]
    secret = created.stdout.split("AWS_SECRET_ACCESS_KEY=")[1].split()[0]
    client = server.client(key_id=key_id, secret=secret)
    assert client.detect_faces(Image={"Bytes": OBAMA.read_bytes()})["FaceDetails"]

    listed = candor("keys", "list", data_dir=server.data_dir)
    assert key_id in listed.stdout and "team-a" in listed.stdout and secret not in listed.stdout
    revoked = candor("keys", "revoke", key_id, data_dir=server.data_dir)
    assert revoked.returncode == 0, revoked.stderr

    with pytest.raises(ClientError) as exc:  # the very next request, same connection
        client.detect_faces(Image={"Bytes": OBAMA.read_bytes()})
    client.close()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert candor("keys", "revoke", "CNDRNOSUCHKEY0000000",
                  data_dir=server.data_dir).returncode == 1


def test_time_skew_message_through_boto3(server: Server) -> None:
    client = server.client()
    old = datetime.now(timezone.utc) - timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=old), \
            pytest.raises(ClientError) as exc:
        client.list_collections()
    client.close()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "Signature expired" in exc.value.response["Error"]["Message"]
