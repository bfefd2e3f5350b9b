"""PyJWT's PyJWKClient verifies a showcase access token from the showcase's JWKS.

Arguments: the showcase's address, the algorithm, the token. Prints one JSON
line: the verified claims, the key id PyJWKClient picked, and whether a token
with one signature byte changed and one for another audience were refused.
"""

import json
import sys

import jwt
from jwt import PyJWKClient


def main() -> None:
    base, algorithm, token = sys.argv[1], sys.argv[2], sys.argv[3]
    client = PyJWKClient(f"{base}/.well-known/jwks.json", cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[algorithm], audience=base)

    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    try:
        jwt.decode(f"{head}.{body}.{flipped}", key.key, algorithms=[algorithm], audience=base)
        tampered_rejected = False
    except jwt.InvalidSignatureError:
        tampered_rejected = True
    try:
        jwt.decode(token, key.key, algorithms=[algorithm], audience="https://elsewhere.example")
        other_audience_rejected = False
    except jwt.InvalidAudienceError:
        other_audience_rejected = True

    print(
        json.dumps(
            {
                "claims": claims,
                "kid": key.key_id,
                "header": jwt.get_unverified_header(token),
                "tampered_rejected": tampered_rejected,
                "other_audience_rejected": other_audience_rejected,
            }
        )
    )


if __name__ == "__main__":
    main()
