"""Make the TEST-ONLY key pairs and the JWKS used by crates/server/tests/ops.rs.

These keys are public (committed) and protect nothing: never use them for
anything but these tests. Run once with the peers venv:

    .peers-venv/bin/python crates/server/tests/data/auth/make_keys.py
"""

import base64
import json
import pathlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HERE = pathlib.Path(__file__).resolve().parent


def b64url_uint(n: int, length: int | None = None) -> str:
    length = length or (n.bit_length() + 7) // 8
    return base64.urlsafe_b64encode(n.to_bytes(length, "big")).rstrip(b"=").decode()


def write_private(key, name: str) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (HERE / name).write_bytes(pem)


def main() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private(rsa_key, "rsa-private.pem")
    write_private(ec_key, "ec-private.pem")
    write_private(rogue, "rogue-rsa-private.pem")
    rn = rsa_key.public_key().public_numbers()
    en = ec_key.public_key().public_numbers()
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "test-rsa", "use": "sig", "alg": "RS256",
             "n": b64url_uint(rn.n), "e": b64url_uint(rn.e)},
            {"kty": "EC", "kid": "test-ec", "use": "sig", "alg": "ES256", "crv": "P-256",
             "x": b64url_uint(en.x, 32), "y": b64url_uint(en.y, 32)},
        ]
    }
    (HERE / "jwks.json").write_text(json.dumps(jwks, indent=2) + "\n")


if __name__ == "__main__":
    main()
