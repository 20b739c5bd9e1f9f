"""adbd's public-key authentication (packages/modules/adb: daemon/auth.cpp, adb.cpp handle_packet), as
a user build with ro.adb.secure=1 runs it.

The host's CNXN is answered with AUTH TOKEN (20 random bytes). The host signs it with its key(s) (AUTH
SIGNATURE: RSA PKCS#1 v1.5 over the token taken as a SHA-1 digest); a signature from a key in the
device's adb_keys is accepted with CNXN, any other gets a fresh token. A host with no accepted key
sends AUTH RSAPUBLICKEY (its key in Android's RSAPublicKey layout, base64, then " user@host"): the phone
asks "Allow USB debugging?"; the virtual device's user is the one who served it and always allows, so
the key is stored (as "Always allow from this computer") and the connection gets CNXN. The serving
computer's own adb key counts as allowed already (a developer's phone paired with their computer).
"""

from __future__ import annotations

import base64
import os
import struct
import threading

ADB_AUTH_TOKEN = 1
ADB_AUTH_SIGNATURE = 2
ADB_AUTH_RSAPUBLICKEY = 3
TOKEN_SIZE = 20  # adbd's TOKEN_SIZE
KEYS_FILE = "/data/misc/adb/adb_keys"


def parse_public_key(blob: bytes):
    """Android's RSAPublicKey (len, n0inv, n[len] LE words, rr[len], exponent) -> cryptography key."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    text = blob.rstrip(b"\0").split(b" ", 1)[0]
    raw = base64.b64decode(text)
    (words,) = struct.unpack_from("<I", raw, 0)
    modulus = int.from_bytes(raw[8 : 8 + 4 * words], "little")
    (exponent,) = struct.unpack_from("<I", raw, 8 + 8 * words)
    return RSAPublicNumbers(exponent, modulus).public_key()


def verify(key, token: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
        return True
    except (InvalidSignature, ValueError):
        return False


def _host_keys() -> list[bytes]:
    """The keys of this computer's adb (ADB_VENDOR_KEYS, ~/.android/adbkey.pub): the phone was paired
    with the computer that serves it, as a developer's phone has "Always allow"ed their computer."""
    paths = [p for p in os.environ.get("ADB_VENDOR_KEYS", "").split(os.pathsep) if p]
    home = os.environ.get("ANDROID_USER_HOME") or os.path.join(os.path.expanduser("~"), ".android")
    paths.append(os.path.join(home, "adbkey"))
    out = []
    for p in paths:
        pub = p if p.endswith(".pub") else p + ".pub"
        try:
            with open(pub, "rb") as fh:
                out.append(fh.read().strip())
        except OSError:
            continue
    return out


class AdbKeys:
    """The device's authorised host keys (adb_keys), shared by every connection to one phone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lines: list[bytes] = []

    def accepts(self, token: bytes, signature: bytes) -> bool:
        with self._lock:
            lines = list(self.lines) + _host_keys()
        for line in lines:
            try:
                if verify(parse_public_key(line), token, signature):
                    return True
            except (ValueError, struct.error):
                continue
        return False

    def allow(self, blob: bytes) -> bool:
        """The user's "Always allow": store the key (False for a key that does not parse)."""
        line = blob.rstrip(b"\0")
        try:
            parse_public_key(line)
        except (ValueError, struct.error):
            return False
        with self._lock:
            if line not in self.lines:
                self.lines.append(line)
        return True


class Handshake:
    """One connection's authentication state."""

    def __init__(self, keys: AdbKeys) -> None:
        self.keys = keys
        self.token = b""

    def new_token(self) -> bytes:
        self.token = os.urandom(TOKEN_SIZE)
        return self.token

    def on_auth(self, kind: int, data: bytes) -> bool | None:
        """True: authorised (send CNXN); False: send another token; None: ignore the packet."""
        if kind == ADB_AUTH_SIGNATURE:
            return bool(self.token) and self.keys.accepts(self.token, data)
        if kind == ADB_AUTH_RSAPUBLICKEY:
            return self.keys.allow(data) or None
        return None
