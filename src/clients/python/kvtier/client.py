"""A small synchronous client of a KvTier sidecar: the bytes API (kvtier.v1.KvTier), the engine API
(kvtier.v1.Engine) and cluster status, over grpcio."""

from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import grpc

from kvtier import hashing
from kvtier.v1 import cluster_pb2, cluster_pb2_grpc, engine_pb2, engine_pb2_grpc, kvtier_pb2, kvtier_pb2_grpc

try:  # pragma: no cover - which branch runs depends on the machine
    import xxhash as _xxhash
except ImportError:  # pragma: no cover
    _xxhash = None

CHUNK_BYTES = 1 << 20
"""Payload bytes per Put message (the server accepts up to 1 MiB of payload plus the header per message)."""

_LOCATIONS = {
    kvtier_pb2.LOCATION_LOCAL_DRAM: "local_dram",
    kvtier_pb2.LOCATION_LOCAL_SSD: "local_ssd",
    kvtier_pb2.LOCATION_REMOTE: "remote",
}
_RESULTS = {
    engine_pb2.BLOCK_RESULT_OK: "ok",
    engine_pb2.BLOCK_RESULT_MISSING: "missing",
    engine_pb2.BLOCK_RESULT_CORRUPT: "corrupt",
    engine_pb2.BLOCK_RESULT_TIMEOUT: "timeout",
}
_LAYOUTS = {
    "vllm_paged": engine_pb2.POOL_LAYOUT_VLLM_PAGED,
    "layer_major": engine_pb2.POOL_LAYOUT_LAYER_MAJOR,
}


class BlockIntegrityError(Exception):
    """A block arrived with a wrong length or checksum; none of its bytes are handed out."""


def checksum(data: bytes) -> Optional[int]:
    """The block checksum (XxHash3-64, seed 0) as the sidecar computes it; None when python3-xxhash is missing."""
    return _xxhash.xxh3_64_intdigest(data) if _xxhash is not None else None


@dataclass
class Location:
    """Where one cached block lives: ``local_dram``, ``local_ssd`` or ``remote`` (then ``node_id`` names the node)."""

    location: str
    node_id: str = ""


@dataclass
class LookupResult:
    """The count of leading cached keys, where each lives, and the fetch-vs-recompute plan when one was asked for."""

    prefix_blocks: int
    locations: List[Location] = field(default_factory=list)
    plan: Optional[kvtier_pb2.FetchPlan] = None


def _channel_target(target: str) -> Tuple[str, bool]:
    """``host:port``, ``http://host:port`` (h2c) or ``https://host:port`` (TLS) -> (grpc target, secure)."""
    if target.startswith("http://"):
        return target[len("http://"):].rstrip("/"), False
    if target.startswith("https://"):
        return target[len("https://"):].rstrip("/"), True
    if "://" in target:
        raise ValueError(f"'{target}' is not a server address: give host:port, http://host:port or https://host:port")
    return target, False


def _root_certificates(ca_file: str) -> bytes:
    """The PEM certificates of ``ca_file``; ValueError naming the file when it holds none."""
    with open(ca_file, "rb") as f:
        pem = f.read()
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"ca_file '{ca_file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's "
                         "certificate, or the server's own self-signed one")
    return pem


class Client:
    """Talks to one sidecar, e.g. ``Client("127.0.0.1:50051")`` or ``Client("http://10.0.0.5:50051", api_key=...)``.

    With ``api_key`` every call carries ``authorization: Bearer <key>``. With ``namespace`` (``"shared"``) every call
    carries ``kvtier-namespace: <namespace>``: reads look in that namespace only, and writes go there, which for
    ``shared`` only an admin key may do (``PERMISSION_DENIED`` otherwise); None or "" (the default) reads the key's
    tenant, then ``shared``, and writes the key's tenant. An ``https://`` target dials TLS, trusting grpc's default
    roots, or with ``ca_file`` the PEM certificates of that file instead (a private CA, or a self-signed server
    certificate itself); the host name must match the certificate either way. Errors other than "not found" on
    :meth:`get` surface as ``grpc.RpcError`` with the server's status code and message. Thread-safe, like the grpc
    channel it wraps; use it as a context manager or call :meth:`close`.
    """

    def __init__(self, target: str, api_key: Optional[str] = None, *, namespace: Optional[str] = None,
                 ca_file: Optional[str] = None, timeout: Optional[float] = None,
                 options: Sequence[Tuple[str, object]] = ()):
        address, secure = _channel_target(target)
        if ca_file is not None and not secure:
            raise ValueError(f"ca_file is only used over TLS: give the server as https://{address}, or drop ca_file")
        opts = [("grpc.max_receive_message_length", 16 << 20), ("grpc.max_send_message_length", 16 << 20), *options]
        if secure:
            credentials = grpc.ssl_channel_credentials(_root_certificates(ca_file) if ca_file is not None else None)
            self._channel = grpc.secure_channel(address, credentials, options=opts)
        else:
            self._channel = grpc.insecure_channel(address, options=opts)
        metadata = []
        if api_key:
            metadata.append(("authorization", f"Bearer {api_key}"))
        if namespace:
            metadata.append(("kvtier-namespace", namespace))
        self._metadata = tuple(metadata) or None
        self._timeout = timeout
        self.target = address
        self.namespace = namespace or None
        self.kvtier = kvtier_pb2_grpc.KvTierStub(self._channel)
        self.engine = engine_pb2_grpc.EngineStub(self._channel)
        self.cluster = cluster_pb2_grpc.ClusterStub(self._channel)

    hash_blocks = staticmethod(hashing.hash_blocks)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request):
        return method(request, metadata=self._metadata, timeout=self._timeout)

    # --- bytes API -------------------------------------------------------------------------------------------

    def put(self, key, data: bytes, *, ttl_seconds: int = 0, geometry_fingerprint: int = 0) -> int:
        """Stores one block (replacing a block with the same key); returns the bytes stored. The payload's
        checksum travels with it when python3-xxhash is installed, so the server rejects a damaged upload
        (DATA_LOSS) instead of storing it."""
        key = hashing.parse_key(key)
        data = bytes(data)
        header = kvtier_pb2.BlockHeader(key=key, length=len(data), geometry_fingerprint=geometry_fingerprint,
                                        ttl_seconds=ttl_seconds)
        digest = checksum(data)
        if digest is not None:
            header.checksum = digest

        def messages() -> Iterator[kvtier_pb2.PutRequest]:
            yield kvtier_pb2.PutRequest(header=header, chunk=data[:CHUNK_BYTES])
            for offset in range(CHUNK_BYTES, len(data), CHUNK_BYTES):
                yield kvtier_pb2.PutRequest(chunk=data[offset:offset + CHUNK_BYTES])

        return self._call(self.kvtier.Put, messages()).stored_bytes

    def get(self, key) -> Optional[bytes]:
        """The block's bytes, or None when the server does not have it (NOT_FOUND). The bytes are checked against
        the header's length and (with python3-xxhash) checksum before they are returned."""
        key = hashing.parse_key(key)
        header = None
        parts: List[bytes] = []
        try:
            for message in self._call(self.kvtier.Get, kvtier_pb2.GetRequest(key=key)):
                if header is None:
                    if not message.HasField("header"):
                        raise BlockIntegrityError(f"{key.hex()}: the first message had no header")
                    header = message.header
                parts.append(message.chunk)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        if header is None:
            raise BlockIntegrityError(f"{key.hex()}: the server ended the reply before the header")
        data = b"".join(parts)
        if len(data) != header.length:
            raise BlockIntegrityError(f"{key.hex()}: {len(data)} bytes arrived but the header says {header.length}")
        actual = checksum(data)
        if actual is not None and header.HasField("checksum") and actual != header.checksum:
            raise BlockIntegrityError(
                f"{key.hex()}: the bytes hash to {actual:016x} but the header says {header.checksum:016x}")
        return data

    def lookup(self, keys: Iterable, *, turn: Optional[int] = None) -> LookupResult:
        """How many leading keys of a chain (in prompt order) are cached, and where each of them lives. ``turn``, the
        conversation turn of the prompt (0 for the first), feeds the sidecar's ``kvtier_hit_rate_by_turn`` metric."""
        return self._lookup(kvtier_pb2.LookupRequest(keys=hashing.parse_keys(keys)), turn)

    def plan(self, keys: Iterable, model: str, device: str, *, prompt_tokens: int = 0,
             layerwise_overlap: bool = False, turn: Optional[int] = None) -> LookupResult:
        """:meth:`lookup` plus the fetch-vs-recompute plan (``result.plan.decision``: recompute, fetch or split)
        for a model preset and a prefill profile's device (e.g. ``llama-3.1-8b``, ``h100-sxm``)."""
        options = kvtier_pb2.PlanOptions(model=model, device=device, prompt_tokens=prompt_tokens,
                                         layerwise_overlap=layerwise_overlap)
        return self._lookup(kvtier_pb2.LookupRequest(keys=hashing.parse_keys(keys), plan=options), turn)

    def _lookup(self, request: kvtier_pb2.LookupRequest, turn: Optional[int]) -> LookupResult:
        if turn is not None:
            if isinstance(turn, bool) or not isinstance(turn, int) or not 0 <= turn <= 0xFFFFFFFF:
                raise ValueError(f"turn {turn!r}: give the conversation turn as a whole number >= 0 (0: the first)")
            request.turn = turn
        response = self._call(self.kvtier.Lookup, request)
        locations = [Location(_LOCATIONS.get(loc.location, "unspecified"), loc.node_id) for loc in response.locations]
        return LookupResult(response.prefix_blocks, locations, response.plan if response.HasField("plan") else None)

    def delete(self, keys: Iterable) -> int:
        """Deletes blocks; returns how many existed."""
        return self._call(self.kvtier.Delete, kvtier_pb2.KeysRequest(keys=hashing.parse_keys(keys))).deleted

    def touch(self, keys: Iterable, ttl_seconds: int = 0) -> int:
        """Refreshes recency and sets (0: clears) the TTL of blocks; returns how many exist."""
        request = kvtier_pb2.TouchRequest(keys=hashing.parse_keys(keys), ttl_seconds=ttl_seconds)
        return self._call(self.kvtier.Touch, request).touched

    def stats(self) -> dict:
        """The store's counters as a dict named like ``kvtier stats --json`` fields (StatsResponse's fields)."""
        response = self._call(self.kvtier.Stats, kvtier_pb2.StatsRequest())
        return {f.name: getattr(response, f.name) for f in response.DESCRIPTOR.fields}

    def report_timing(self, model: str, device: str, **fields) -> float:
        """Reports a real prefill or fetch timing (TimingReport's fields); returns the updated prefill estimate."""
        request = kvtier_pb2.TimingReport(model=model, device=device, **fields)
        return self._call(self.kvtier.ReportTiming, request).prefill_estimate_ms

    def begin_prefill(self, prefix_key, holder: str, eta_ms: int) -> kvtier_pb2.BeginPrefillResponse:
        """Asks for the fleet-wide in-flight lease on a prefix before prefilling it."""
        request = kvtier_pb2.BeginPrefillRequest(prefix_key=hashing.parse_key(prefix_key), holder=holder, eta_ms=eta_ms)
        return self._call(self.kvtier.BeginPrefill, request)

    def end_prefill(self, prefix_key, holder: str) -> bool:
        """Releases a lease taken with :meth:`begin_prefill`; False when the caller no longer held it."""
        request = kvtier_pb2.EndPrefillRequest(prefix_key=hashing.parse_key(prefix_key), holder=holder)
        return self._call(self.kvtier.EndPrefill, request).released

    def await_prefill(self, prefix_key, max_wait_ms: int) -> kvtier_pb2.AwaitPrefillResponse:
        """Waits (at most ``max_wait_ms``, 1 to 60000) until the lease on a prefix ends: ``ended`` is True once it was
        released or lapsed (look the prefix up then), False when the wait ran out first (the lease as it stands)."""
        request = kvtier_pb2.AwaitPrefillRequest(prefix_key=hashing.parse_key(prefix_key), max_wait_ms=max_wait_ms)
        return self._call(self.kvtier.AwaitPrefill, request)

    # --- engine API ------------------------------------------------------------------------------------------

    def register_pool(self, shm_path: str, *, layers: int, kv_heads: int, head_dim: int, dtype: str,
                      num_blocks: int, block_tokens: int = 16, layout: str = "vllm_paged", model: str = "",
                      engine_pid: int = 0) -> Tuple[str, int]:
        """Registers an engine's paged KV pool living in a shared-memory file (e.g. under /dev/shm); returns
        (pool id, bytes per block). ``layout`` is ``vllm_paged`` or ``layer_major``; ``dtype`` fp32, fp16, bf16 or fp8."""
        if layout not in _LAYOUTS:
            raise ValueError(f"layout '{layout}': give one of {', '.join(_LAYOUTS)}")
        geometry = engine_pb2.Geometry(model=model, layers=layers, kv_heads=kv_heads, head_dim=head_dim, dtype=dtype,
                                       block_tokens=block_tokens)
        request = engine_pb2.RegisterPoolRequest(geometry=geometry, layout=_LAYOUTS[layout], num_blocks=num_blocks,
                                                 shm_path=shm_path, engine_pid=engine_pid)
        response = self._call(self.engine.RegisterPool, request)
        return response.pool_id, response.block_bytes

    def unregister_pool(self, pool_id: str) -> None:
        self._call(self.engine.UnregisterPool, engine_pb2.PoolRequest(pool_id=pool_id))

    def offload(self, pool_id: str, blocks: Iterable[Tuple[object, int]], *, ttl_seconds: int = 0) -> List[str]:
        """Copies the (key, slot) blocks from the pool into the sidecar; one result per block: ok, missing,
        corrupt or timeout."""
        request = engine_pb2.TransferRequest(pool_id=pool_id, blocks=self._slots(blocks), ttl_seconds=ttl_seconds)
        return self._results(self._call(self.engine.Offload, request))

    def onload(self, pool_id: str, blocks: Iterable[Tuple[object, int]]) -> List[str]:
        """Copies cached blocks into the given slots; a block that is not ``ok`` leaves its slot untouched."""
        request = engine_pb2.TransferRequest(pool_id=pool_id, blocks=self._slots(blocks))
        return self._results(self._call(self.engine.Onload, request))

    @staticmethod
    def _slots(blocks: Iterable[Tuple[object, int]]) -> List[engine_pb2.BlockSlot]:
        return [engine_pb2.BlockSlot(key=hashing.parse_key(key), slot=slot) for key, slot in blocks]

    @staticmethod
    def _results(response: engine_pb2.TransferResponse) -> List[str]:
        return [_RESULTS.get(r, "unspecified") for r in response.results]

    # --- cluster ---------------------------------------------------------------------------------------------

    def info(self) -> cluster_pb2.NodeInfo:
        """This node's identity (node id, cluster, endpoints, seed fingerprint, capacity)."""
        return self._call(self.cluster.Info, cluster_pb2.InfoRequest())

    def cluster_status(self) -> cluster_pb2.ClusterStatusResponse:
        """Members as this node sees them, and the replication counters."""
        return self._call(self.cluster.Status, cluster_pb2.ClusterStatusRequest())
