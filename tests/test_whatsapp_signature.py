"""Webhook authenticity: X-Hub-Signature-256 and the subscription handshake."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from copilot.integrations.whatsapp import (
    SignatureError,
    VerificationError,
    compute_signature,
    verify_signature,
    verify_subscription,
)

SECRET = "gc-app-secret-2026"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def header_for(body: bytes, secret: str = SECRET) -> str:
    # Computed independently of the code under test.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_compute_signature_matches_hmac_sha256() -> None:
    assert compute_signature(BODY, SECRET) == header_for(BODY)


def test_a_correct_signature_passes() -> None:
    verify_signature(BODY, header_for(BODY), SECRET)
    # Upper-case hex and surrounding spaces are tolerated.
    algo, digest = header_for(BODY).split("=")
    verify_signature(BODY, f"  {algo}={digest.upper()} ", SECRET)


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("abc123", "malformed"),
        ("sha1=" + "0" * 40, "malformed"),
        ("sha256=", "64 hexadecimal"),
        ("sha256=xyz", "64 hexadecimal"),
        ("sha256=" + "g" * 64, "64 hexadecimal"),
        ("sha256=" + "0" * 63, "64 hexadecimal"),
        ("sha256=" + "0" * 64, "does not match"),
    ],
)
def test_missing_malformed_or_wrong_signatures_are_rejected(
    header: str | None, needle: str
) -> None:
    with pytest.raises(SignatureError, match=needle):
        verify_signature(BODY, header, SECRET)


def test_signature_is_bound_to_the_exact_bytes_and_secret() -> None:
    header = header_for(BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(BODY + b" ", header, SECRET)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(BODY, header, SECRET + "x")
    # Re-serialised JSON is not the raw body: it must fail.
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(BODY.replace(b",", b", "), header, SECRET)


def test_no_secret_configured_is_an_error_not_a_pass() -> None:
    with pytest.raises(SignatureError, match="no app secret"):
        verify_signature(BODY, header_for(BODY, ""), "")


def test_parsed_json_instead_of_raw_bytes_is_refused() -> None:
    with pytest.raises(SignatureError, match="raw request body"):
        verify_signature({"object": "x"}, header_for(BODY), SECRET)  # type: ignore[arg-type]


def test_subscription_handshake_returns_the_challenge() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok-gc", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "tok-gc") == "1158201444"
    # parse_qs-style lists work too.
    listed = {key: [value] for key, value in params.items()}
    assert verify_subscription(listed, "tok-gc") == "1158201444"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"hub.verify_token": "tok-gc", "hub.challenge": "1"}, "missing hub.mode"),
        (
            {"hub.mode": "unsubscribe", "hub.verify_token": "tok-gc", "hub.challenge": "1"},
            "must be 'subscribe'",
        ),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "missing hub.verify_token"),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "other", "hub.challenge": "1"},
            "does not match",
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok-gc"}, "missing hub.challenge"),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "tok-gc", "hub.challenge": ""},
            "missing hub.challenge",
        ),
        (
            {"hub.mode": ["subscribe", "subscribe"], "hub.verify_token": "tok-gc"},
            "missing hub.mode",
        ),
    ],
)
def test_subscription_handshake_failures(params: dict, needle: str) -> None:
    with pytest.raises(VerificationError, match=needle):
        verify_subscription(params, "tok-gc")


def test_subscription_without_configured_token_fails() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    with pytest.raises(VerificationError, match="no verify token"):
        verify_subscription(params, "")
