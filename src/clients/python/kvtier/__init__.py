"""Python client of KvTier, the KV-cache tier sidecar: ``kvtier.Client`` and ``kvtier.hash_blocks``.

The gRPC stubs under ``kvtier.v1`` are generated from src/KvTier.Protos (scripts/gen-python-stubs.sh) for the
Debian bookworm runtime: python3-grpcio 1.51 and python3-protobuf 3.21.
"""

from kvtier.client import CHUNK_BYTES, BlockIntegrityError, Client, Location, LookupResult, checksum
from kvtier.hashing import event_id, hash_blocks, key_hex, parse_key, root_key, seed_fingerprint

__all__ = [
    "CHUNK_BYTES", "BlockIntegrityError", "Client", "Location", "LookupResult", "checksum",
    "event_id", "hash_blocks", "key_hex", "parse_key", "root_key", "seed_fingerprint",
]
__version__ = "0.1.0"
