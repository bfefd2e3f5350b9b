"""Schemathesis hooks for the showcase run (`SCHEMATHESIS_HOOKS`).

Each request carries the credentials its route takes, obtained the way a
client would: an administrator's access token (signed in afresh every two
seconds — the run calls the logout routes too, and a revoked token must not
turn the rest of the run into 401s), the demo partner's token for its routes,
the demo clients for `/oauth/introspect` and `/partner/token`, the demo
partner's push credential for pushed security events, and a permanent token
from a fresh sign-in for each device refresh (it rotates on every use).
Link tokens are not supplied: a link is a capability for one use, and the run
checks what link routes answer without a valid one.
"""

import base64
import os

import requests
import schemathesis

BASE = os.environ["SHOWCASE_BASE"]


def login(user: str) -> dict:
    answer = requests.post(
        f"{BASE}/auth/token",
        json={"username": user, "password": f"{user}-password"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


@schemathesis.serializer("application/secevent+jwt")
def secevent_jwt(ctx, value):
    """A Security Event Token body (RFC 8935): the string itself, as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


@schemathesis.auth(refresh_interval=2)
class Credentials:
    def get(self, case, ctx):
        partner = requests.post(
            f"{BASE}/partner/demo-token",
            json={"sub": "fuzz", "scope": "mcp:tools orders:read"},
            timeout=10,
        )
        partner.raise_for_status()
        return {"admin": login("admin")["access"], "partner": partner.json()["access"]}

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        path = case.operation.path
        if path in ("/partner/me", "/partner/login", "/mcp"):
            case.headers["Authorization"] = f"Bearer {data['partner']}"
        elif path == "/oauth/introspect":
            basic = base64.b64encode(b"demo-rs:demo-rs-secret").decode()
            case.headers["Authorization"] = f"Basic {basic}"
        elif path == "/partner/token":
            basic = base64.b64encode(b"mcp-demo:mcp-demo-secret").decode()
            case.headers["Authorization"] = f"Basic {basic}"
        elif path.startswith("/signals/ssf/"):
            # The demo partner's push credential: pushes reach the event checks.
            case.headers["Authorization"] = "Bearer demo-partner-ssf-push-credential"
        elif path == "/auth/device/refresh":
            case.headers["Permanent-Token"] = login("alice")["permanent_token"]
        else:
            case.headers["Authorization"] = f"Bearer {data['admin']}"
