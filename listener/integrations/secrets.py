"""Secrets of external connections, sealed with AES-GCM before they reach the database.

The key is 32 bytes, base64 in SLOTOPTIM_SECRET_KEY (in production it comes from KMS into the
task's environment). Older keys stay readable while listed in SLOTOPTIM_SECRET_KEYS_OLD
(comma-separated), so a key can rotate: new seals always use the current key. Each ciphertext is
bound (associated data) to the organisation, provider and purpose of its connection, so a sealed
secret copied onto another row does not open. Nothing here logs or returns a secret in an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_VARIABLE = "SLOTOPTIM_SECRET_KEY"
OLD_KEYS_VARIABLE = "SLOTOPTIM_SECRET_KEYS_OLD"
NONCE_BYTES = 12


class SecretKeyError(Exception):
    """The key is missing or malformed, or no known key opens a sealed secret."""


@dataclass(frozen=True)
class SealedSecret:
    ciphertext: bytes
    key_id: str


def key_id(key: bytes) -> str:
    # Identifies the key without revealing it: a truncated hash.
    return hashlib.sha256(b"slotoptim-secret-key:" + key).hexdigest()[:16]


def _decode(text: str, variable: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError(f"{variable} must be base64 of 32 bytes") from None
    if len(key) != 32:
        raise SecretKeyError(f"{variable} must be base64 of 32 bytes, not {len(key)}")
    return key


def current_key() -> bytes:
    text = os.environ.get(KEY_VARIABLE)
    if not text:
        raise SecretKeyError(
            f'{KEY_VARIABLE} is not set: generate one with `python -c "import os,base64;'
            f'print(base64.b64encode(os.urandom(32)).decode())"`'
        )
    return _decode(text, KEY_VARIABLE)


def known_keys() -> dict[str, bytes]:
    keys = {}
    for text in filter(None, (t.strip() for t in os.environ.get(OLD_KEYS_VARIABLE, "").split(","))):
        key = _decode(text, OLD_KEYS_VARIABLE)
        keys[key_id(key)] = key
    key = current_key()
    keys[key_id(key)] = key
    return keys


def binding(org_id: int, provider_id: int | None, purpose: str) -> bytes:
    return f"slotoptim-connection:{org_id}:{provider_id or ''}:{purpose}".encode()


def seal(values: dict[str, str], context: bytes) -> SealedSecret:
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(values, sort_keys=True).encode()
    return SealedSecret(nonce + AESGCM(key).encrypt(nonce, plaintext, context), key_id(key))


def unseal(sealed: bytes, sealed_key_id: str | None, context: bytes) -> dict[str, str]:
    keys = known_keys()
    key = keys.get(sealed_key_id or "")
    if key is None:
        raise SecretKeyError(f"no key {sealed_key_id!r} in {KEY_VARIABLE} or {OLD_KEYS_VARIABLE}")
    try:
        plaintext = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except InvalidTag:
        raise SecretKeyError("a sealed secret does not open: wrong key or tampered ciphertext") from None
    values = json.loads(plaintext)
    if not isinstance(values, dict):
        raise SecretKeyError("a sealed secret is not an object")
    return {str(k): str(v) for k, v in values.items()}
