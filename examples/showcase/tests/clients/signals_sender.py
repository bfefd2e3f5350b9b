"""An identity provider's signals, made by PyJWT and sent with the standard library.

Arguments: the showcase's address, the demo partner's private key (PEM) and key
id, the logout client id, the SSF audience, the push credential, and the
partner subject to sign out. Sends, as a provider does:
  1. an OpenID Connect Back-Channel Logout token (typ logout+jwt), form-posted;
  2. the same token again (a replay);
  3. a CAEP session-revoked Security Event Token (typ secevent+jwt), pushed as
     RFC 8935 says with the bearer credential;
  4. that event with one signature character changed;
  5. a fresh event without the credential.
Prints one JSON line: each answer's status, and the bodies and headers that
matter.
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jwt

BCL = "http://schemas.openid.net/event/backchannel-logout"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def send(url, body, headers):
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def main() -> None:
    base, key_path, kid, client_id, audience, push_token, sub = sys.argv[1:8]
    key = open(key_path, encoding="utf-8").read()
    issuer = f"{base}/partner"
    now = int(time.time())
    logout = jwt.encode(
        {"iss": issuer, "aud": client_id, "iat": now, "exp": now + 120,
         "jti": str(uuid.uuid4()), "sub": sub, "events": {BCL: {}}},
        key, algorithm="RS256", headers={"kid": kid, "typ": "logout+jwt"},
    )
    form = urllib.parse.urlencode({"logout_token": logout})
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    logout_url = f"{base}/signals/backchannel-logout/partner"
    first = send(logout_url, form, form_type)
    replay = send(logout_url, form, form_type)

    def event():
        return jwt.encode(
            {"iss": issuer, "aud": audience, "iat": int(time.time()), "jti": str(uuid.uuid4()),
             "sub_id": {"format": "iss_sub", "iss": issuer, "sub": sub},
             "events": {SESSION_REVOKED: {"event_timestamp": now}}},
            key, algorithm="RS256", headers={"kid": kid, "typ": "secevent+jwt"},
        )

    push_url = f"{base}/signals/ssf/partner"
    set_type = {"Content-Type": "application/secevent+jwt"}
    bearer = {**set_type, "Authorization": f"Bearer {push_token}"}
    token = event()
    pushed = send(push_url, token, bearer)
    head, body, signature = event().split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    tampered = send(push_url, f"{head}.{body}.{flipped}", bearer)
    anonymous = send(push_url, event(), set_type)
    print(json.dumps({
        "logout": first[0],
        "logout_cache_control": first[1].get("Cache-Control"),
        "replay": replay[0],
        "replay_error": json.loads(replay[2] or "{}").get("error"),
        "pushed": pushed[0],
        "tampered": tampered[0],
        "tampered_err": json.loads(tampered[2] or "{}").get("err"),
        "anonymous": anonymous[0],
        "anonymous_err": json.loads(anonymous[2] or "{}").get("err"),
    }))


if __name__ == "__main__":
    main()
