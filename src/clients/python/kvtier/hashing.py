"""Block keys exactly as ``kvtier hash`` and the sidecar compute them (vLLM's ``sha256_cbor`` prefix-cache chain).

root   = SHA-256(canonical CBOR of the seed *string*)
key(i) = SHA-256(canonical CBOR of [parent, [tokens of block i], extra])

``extra`` is None, or a list of text strings: the LoRA adapter name (every block) followed by the cache salt
(first block only); empty names count as absent. A trailing partial block has no key. Canonical CBOR here is
RFC 8949 §4.2 (shortest integer heads, definite lengths), which is what ``cbor2.dumps(obj, canonical=True)``
writes for these types. cbor2 is used when it is installed (Debian: python3-cbor2); otherwise a minimal encoder
for exactly these types (byte string, text string, unsigned int, array, null) gives the same bytes.
"""

import hashlib
from typing import Iterable, List, Optional, Sequence

try:  # pragma: no cover - which branch runs depends on the machine
    import cbor2 as _cbor2
except ImportError:  # pragma: no cover
    _cbor2 = None

KEY_SIZE = 32


def _head(major: int, value: int) -> bytes:
    """A CBOR item head: major type and argument in the shortest form (RFC 8949 §4.2.1)."""
    if value < 0:
        raise ValueError(f"CBOR argument must be unsigned, got {value}")
    if value < 24:
        return bytes([(major << 5) | value])
    if value < 1 << 8:
        return bytes([(major << 5) | 24, value])
    if value < 1 << 16:
        return bytes([(major << 5) | 25]) + value.to_bytes(2, "big")
    if value < 1 << 32:
        return bytes([(major << 5) | 26]) + value.to_bytes(4, "big")
    if value < 1 << 64:
        return bytes([(major << 5) | 27]) + value.to_bytes(8, "big")
    raise ValueError(f"CBOR argument too large: {value}")


def cbor_canonical(obj) -> bytes:
    """Canonical CBOR of None, unsigned ints, bytes, str and lists of them: the types block hashing uses."""
    if obj is None:
        return b"\xf6"
    if isinstance(obj, bool):
        raise TypeError("booleans are not used in block hashing")
    if isinstance(obj, int):
        return _head(0, obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        return _head(2, len(data)) + data
    if isinstance(obj, str):
        data = obj.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(obj, (list, tuple)):
        return _head(4, len(obj)) + b"".join(cbor_canonical(item) for item in obj)
    raise TypeError(f"cannot encode {type(obj).__name__} for block hashing")


def _encode(obj, use_cbor2: Optional[bool]) -> bytes:
    if use_cbor2 is None:
        use_cbor2 = _cbor2 is not None
    if use_cbor2:
        if _cbor2 is None:
            raise RuntimeError("cbor2 is not installed (Debian: apt-get install python3-cbor2)")
        return _cbor2.dumps(obj, canonical=True)
    return cbor_canonical(obj)


def root_key(seed: str = "0", *, use_cbor2: Optional[bool] = None) -> bytes:
    """The chain's root (vLLM's NONE_HASH) for a hash seed, given as a string as vLLM's PYTHONHASHSEED is."""
    return hashlib.sha256(_encode(str(seed), use_cbor2)).digest()


def seed_fingerprint(seed: str = "0") -> str:
    """The seed's fingerprint as the sidecar reports it (Stats.seed_fingerprint): the root's event id in hex."""
    return f"{event_id(root_key(seed)):016x}"


def hash_blocks(
    tokens: Sequence[int],
    block_size: int = 16,
    seed: str = "0",
    *,
    lora: Optional[str] = None,
    salt: Optional[str] = None,
    use_cbor2: Optional[bool] = None,
) -> List[bytes]:
    """The 32-byte keys of every full block of ``tokens``, as ``kvtier hash --tokens ... --block-tokens
    block_size --seed seed [--lora NAME] [--salt S]`` prints them (there as hex)."""
    if block_size <= 0:
        raise ValueError(f"block_size must be positive (vLLM's default is 16), got {block_size}")
    lora = lora or None
    salt = salt or None
    parent = root_key(seed, use_cbor2=use_cbor2)
    keys: List[bytes] = []
    for i in range(len(tokens) // block_size):
        block = [int(t) for t in tokens[i * block_size:(i + 1) * block_size]]
        for t in block:
            if t < 0 or t >= 1 << 64:
                raise ValueError(f"token id {t} is not an unsigned integer; it cannot be hashed")
        extras = [x for x in (lora, salt if i == 0 else None) if x is not None]
        payload = [parent, block, extras or None]
        parent = hashlib.sha256(_encode(payload, use_cbor2)).digest()
        keys.append(parent)
    return keys


def event_id(key: bytes) -> int:
    """The 64-bit KV-event id of a key: its last 8 bytes, big-endian."""
    return int.from_bytes(bytes(key)[-8:], "big")


def key_hex(key: bytes) -> str:
    """Lower-case hex, as ``kvtier hash`` prints keys."""
    return bytes(key).hex()


def parse_key(key) -> bytes:
    """Accepts a 32-byte key as bytes or 64 hex characters; raises ValueError naming the bad value otherwise."""
    if isinstance(key, str):
        try:
            key = bytes.fromhex(key)
        except ValueError:
            raise ValueError(f"key '{key}' is not hex: give 64 hex characters (see kvtier hash)") from None
    key = bytes(key)
    if len(key) != KEY_SIZE:
        raise ValueError(f"a block key is {KEY_SIZE} bytes, got {len(key)}")
    return key


def parse_keys(keys: Iterable) -> List[bytes]:
    """Every key through :func:`parse_key`."""
    return [parse_key(k) for k in keys]
