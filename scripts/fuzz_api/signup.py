#!/usr/bin/env python3
"""Signs up users on a running Whisper server the way an API client does, and prints the
values the fuzz run needs as shell assignments.

register -> read the verification link from the mail directory -> complete -> TOTP
device -> confirm it with a computed code -> login -> totp/verify -> access token; then a
second user and a room holding both, with a text message, a reply and an image posted over
the chat socket, so path parameters and history have real values; and the session
cookie of a third, verified user who has not set up TOTP yet, so the session steps get past
`session_required`.

usage: signup.py <base-url> <mail-dir>
"""

import base64
import email
import hashlib
import hmac
import http.cookiejar
import json
import pathlib
import re
import secrets
import shlex
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from socket_client import post_messages

DEADLINE_SECONDS = 20


class Client:
    """An HTTP client with its own cookie jar (one flow's session) and no redirects."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        jar = self.jar
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )

    def call(self, method, path, body=None, token=None, accept="application/json"):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", accept)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with self.opener.open(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def expect(self, status, method, path, body=None, token=None):
        got, raw = self.call(method, path, body, token)
        if got != status:
            sys.exit(f"signup: {method} {path} answered {got}, not {status}: {raw[:500]!r}")
        return json.loads(raw) if raw else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def totp(secret_base32, step):
    """RFC 6238 with SHA-1, 6 digits, 30-second steps."""
    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def settled_step():
    """The current step, waiting for the next one when this one ends within 3 s, so the
    codes of this step and the one before stay valid while we use them."""
    now = time.time()
    if now % 30 >= 27:
        time.sleep(30 - now % 30 + 0.05)
    return int(time.time()) // 30


def verification_path(mail_dir, address):
    """The path of the newest verification link mailed to `address`, polled with a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        for eml in sorted(pathlib.Path(mail_dir).glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            message = email.message_from_bytes(eml.read_bytes())
            if address not in message.get("To", ""):
                continue
            for part in message.walk():
                if part.get_content_type() != "text/plain":
                    continue
                text = part.get_payload(decode=True).decode()
                found = re.search(r"https?://\S*(/api/v1/user/verify-email/complete/[^/\s]+/)", text)
                if found:
                    return found.group(1)
        time.sleep(0.2)
    sys.exit(f"signup: no verification email for {address} in {mail_dir}")


def signed_up(base, mail_dir, address, username):
    """Goes through the whole flow for `address`; returns (user id, access, refresh)."""
    client = Client(base)
    client.expect(201, "POST", "/api/v1/user/register/", {"email": address, "username": username})
    client.expect(200, "POST", verification_path(mail_dir, address))
    client.expect(201, "POST", "/api/v1/user/totp-device/create/")
    secret = client.expect(200, "POST", "/api/v1/user/qr-code/")["secret"]
    # The step before confirms the device and this one logs in: each step works once.
    step = settled_step()
    client.expect(200, "POST", "/api/v1/user/totp-device/verify/", {"otp_token": totp(secret, step - 1)})
    client.expect(303, "POST", "/api/v1/user/login/", {"email": address})
    tokens = client.expect(200, "POST", "/api/v1/user/totp/verify/", {"otp_token": totp(secret, step)})
    return tokens["id"], tokens["access"], tokens["refresh"]


def session_in_setup(base, mail_dir, address):
    """The session cookie of `address` verified but without an authenticator: the state the
    TOTP setup steps (`totp-device/create/`, `qr-code/`, `totp-device/verify/`) start from."""
    client = Client(base)
    client.expect(201, "POST", "/api/v1/user/register/", {"email": address})
    client.expect(200, "POST", verification_path(mail_dir, address))
    for cookie in client.jar:
        if cookie.name == "whisper_session":
            return cookie.value
    sys.exit("signup: verifying the email set no whisper_session cookie")


def main():
    base, mail_dir = sys.argv[1], sys.argv[2]
    tag = secrets.token_hex(4)
    _, access, _ = signed_up(base, mail_dir, f"fuzz-{tag}@example.com", f"fuzz_{tag}")
    other_id, _, _ = signed_up(base, mail_dir, f"peer-{tag}@example.com", f"peer_{tag}")
    client = Client(base)
    room = client.expect(
        201, "POST", "/api/v1/chat/room-list/",
        {"room_name": f"fuzz room {tag}", "user_ids": [other_id]}, token=access,
    )
    client.expect(201, "POST", "/api/v1/chat/room-list/", {"room_name": f"second {tag}", "user_ids": []}, token=access)
    media_id = post_messages(base, room["id"], access)
    session = session_in_setup(base, mail_dir, f"setup-{tag}@example.com")
    for name, value in [("FUZZ_ACCESS", access), ("FUZZ_SESSION", session), ("FUZZ_ROOM_ID", room["id"]),
                        ("FUZZ_MESSAGE_ID", media_id)]:
        print(f"{name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
