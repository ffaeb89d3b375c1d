"""kvtier.Client against a real sidecar (bin/kvtier serve on a free loopback port): bytes API, lookup and plan,
statuses, stats, the engine API over a shared-memory pool, and the bearer-token and namespace metadata."""

import os
import tempfile
import unittest
from concurrent import futures

import grpc

import kvtier
from kvtier.v1 import kvtier_pb2, kvtier_pb2_grpc
from tests.sidecar import Sidecar

SIDECAR = None


def setUpModule():
    global SIDECAR
    SIDECAR = Sidecar()


def tearDownModule():
    if SIDECAR is not None:
        SIDECAR.stop()


def chain(first_token, blocks=3):
    return kvtier.hash_blocks(list(range(first_token, first_token + 16 * blocks)))


class BytesApi(unittest.TestCase):
    def setUp(self):
        self.client = kvtier.Client(SIDECAR.address, timeout=30)

    def tearDown(self):
        self.client.close()

    def test_put_then_get_returns_the_same_bytes_across_several_chunks(self):
        key = chain(1000, 1)[0]
        data = os.urandom(2 * kvtier.CHUNK_BYTES + 12345)
        self.assertEqual(self.client.put(key, data), len(data))
        self.assertEqual(self.client.get(key), data)

    def test_an_empty_block_round_trips(self):
        key = chain(1100, 1)[0]
        self.client.put(key.hex(), b"")
        self.assertEqual(self.client.get(key.hex()), b"")

    def test_lookup_counts_the_cached_leading_keys_and_says_where_they_are(self):
        keys = chain(2000, 3)
        self.client.put(keys[0], b"a" * 4096)
        self.client.put(keys[1], b"b" * 4096)
        result = self.client.lookup(keys)
        self.assertEqual(result.prefix_blocks, 2)
        self.assertEqual([loc.location for loc in result.locations], ["local_dram", "local_dram"])
        self.assertIsNone(result.plan)

    def test_lookup_stops_at_the_first_missing_key(self):
        keys = chain(2100, 3)
        self.client.put(keys[1], b"x")
        self.assertEqual(self.client.lookup(keys).prefix_blocks, 0)

    def test_plan_answers_with_a_decision_and_both_estimates(self):
        keys = chain(2200, 2)
        result = self.client.plan(keys, "llama-3.1-8b", "h100-sxm", prompt_tokens=40)
        self.assertEqual(result.prefix_blocks, 0)
        self.assertIsNotNone(result.plan)
        self.assertEqual(result.plan.decision, "recompute")
        self.assertGreater(result.plan.recompute_all_ttft_ms, 0)

    def test_a_prefill_lease_is_single_flight_and_its_release_ends_the_wait(self):
        prefix = chain(2300, 2)[-1]
        self.assertTrue(self.client.begin_prefill(prefix, "py-holder", 30000).acquired)
        other = self.client.begin_prefill(prefix, "py-waiter", 30000)
        self.assertFalse(other.acquired)
        self.assertEqual(other.holder, "py-holder")
        waited = self.client.await_prefill(prefix, 10)
        self.assertFalse(waited.ended)
        self.assertEqual(waited.holder, "py-holder")
        self.assertTrue(self.client.end_prefill(prefix, "py-holder"))
        self.assertTrue(self.client.await_prefill(prefix, 60000).ended)

    def test_get_of_a_missing_key_returns_none_because_the_server_answers_not_found(self):
        key = chain(3000, 1)[0]
        self.assertIsNone(self.client.get(key))
        with self.assertRaises(grpc.RpcError) as raised:
            list(self.client.kvtier.Get(kvtier_pb2.GetRequest(key=key)))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_a_key_of_the_wrong_length_is_invalid_argument(self):
        request = kvtier_pb2.PutRequest(header=kvtier_pb2.BlockHeader(key=b"short", length=1), chunk=b"x")
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.kvtier.Put(iter([request]))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_a_payload_that_does_not_match_its_checksum_is_data_loss_and_not_stored(self):
        key = chain(3100, 1)[0]
        header = kvtier_pb2.BlockHeader(key=key, length=3, checksum=12345)
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.kvtier.Put(iter([kvtier_pb2.PutRequest(header=header, chunk=b"abc")]))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.DATA_LOSS)
        self.assertIsNone(self.client.get(key))

    @unittest.skipIf(kvtier.checksum(b"") is None, "python3-xxhash is not installed")
    def test_the_client_checksum_is_the_servers(self):
        key = chain(3200, 1)[0]
        data = os.urandom(5000)
        self.client.put(key, data)
        first = next(iter(self.client.kvtier.Get(kvtier_pb2.GetRequest(key=key))))
        self.assertEqual(first.header.checksum, kvtier.checksum(data))

    def test_delete_removes_and_counts_blocks_that_existed(self):
        keys = chain(4000, 2)
        self.client.put(keys[0], b"z" * 10)
        self.assertEqual(self.client.delete(keys), 1)
        self.assertIsNone(self.client.get(keys[0]))

    def test_touch_counts_the_blocks_that_exist(self):
        keys = chain(4100, 2)
        self.client.put(keys[0], b"t")
        self.assertEqual(self.client.touch(keys, ttl_seconds=600), 1)

    def test_stats_count_puts_and_carry_the_seed_fingerprint_hash_blocks_uses(self):
        self.client.put(chain(5000, 1)[0], b"s" * 100)
        stats = self.client.stats()
        self.assertGreaterEqual(stats["puts"], 1)
        self.assertEqual(stats["node_id"], "python-tests")
        self.assertEqual(stats["seed_fingerprint"], kvtier.seed_fingerprint("0"))
        self.assertEqual(stats["max_block_bytes"], 4 << 20)

    def test_the_client_hashes_blocks_like_the_module(self):
        self.assertEqual(self.client.hash_blocks(list(range(32)), 16, "7"), kvtier.hash_blocks(list(range(32)), 16, "7"))

    def test_info_names_this_node(self):
        self.assertEqual(self.client.info().node_id, "python-tests")


class EngineApi(unittest.TestCase):
    LAYERS, KV_HEADS, HEAD_DIM, BLOCKS = 2, 2, 8, 4

    def setUp(self):
        self.client = kvtier.Client(SIDECAR.target, timeout=30)
        directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.pool_file = tempfile.NamedTemporaryFile(prefix="kvtier-pytest-", dir=directory, delete=False)
        self.block_bytes = 2 * self.LAYERS * 16 * self.KV_HEADS * self.HEAD_DIM * 2  # K and V, fp16
        self.pool_file.write(bytes(self.block_bytes * self.BLOCKS))
        self.pool_file.close()

    def tearDown(self):
        self.client.close()
        os.unlink(self.pool_file.name)

    def _slot(self, i, data=None):
        with open(self.pool_file.name, "r+b") as f:
            f.seek(i * self.block_bytes)
            if data is None:
                return f.read(self.block_bytes)
            f.write(data)
            return data

    def test_offload_then_onload_into_another_slot_copies_the_block(self):
        pool, block_bytes = self.client.register_pool(
            self.pool_file.name, layers=self.LAYERS, kv_heads=self.KV_HEADS, head_dim=self.HEAD_DIM, dtype="fp16",
            num_blocks=self.BLOCKS, layout="layer_major")
        self.assertEqual(block_bytes, self.block_bytes)
        keys = chain(6000, 2)
        data = self._slot(0, os.urandom(self.block_bytes))
        self.assertEqual(self.client.offload(pool, [(keys[0], 0)]), ["ok"])
        self.assertEqual(self.client.onload(pool, [(keys[0], 3), (keys[1], 2)]), ["ok", "missing"])
        self.assertEqual(self._slot(3), data)
        self.assertEqual(self._slot(2), bytes(self.block_bytes))
        self.client.unregister_pool(pool)

    def test_registering_a_missing_file_is_not_found(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.register_pool("/nonexistent/kvtier-pool", layers=1, kv_heads=1, head_dim=8, dtype="fp16",
                                      num_blocks=1)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)


class _EchoAuthorization(kvtier_pb2_grpc.KvTierServicer):
    def Stats(self, request, context):
        metadata = dict(context.invocation_metadata())
        return kvtier_pb2.StatsResponse(node_id=metadata.get("authorization", "<none>"),
                                        seed_fingerprint=metadata.get("kvtier-namespace", "<none>"))


class BearerToken(unittest.TestCase):
    def setUp(self):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        kvtier_pb2_grpc.add_KvTierServicer_to_server(_EchoAuthorization(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def tearDown(self):
        self.server.stop(None)

    def test_an_api_key_travels_as_a_bearer_authorization_header(self):
        with kvtier.Client(f"127.0.0.1:{self.port}", api_key="k-123", timeout=10) as client:
            self.assertEqual(client.stats()["node_id"], "Bearer k-123")

    def test_without_an_api_key_no_authorization_header_is_sent(self):
        with kvtier.Client(f"http://127.0.0.1:{self.port}", timeout=10) as client:
            self.assertEqual(client.stats()["node_id"], "<none>")

    def test_a_namespace_travels_as_kvtier_namespace_metadata_beside_the_key(self):
        with kvtier.Client(f"127.0.0.1:{self.port}", api_key="k-123", namespace="shared", timeout=10) as client:
            stats = client.stats()
        self.assertEqual((stats["node_id"], stats["seed_fingerprint"]), ("Bearer k-123", "shared"))

    def test_without_a_namespace_no_kvtier_namespace_metadata_is_sent(self):
        for namespace in (None, ""):
            with kvtier.Client(f"127.0.0.1:{self.port}", namespace=namespace, timeout=10) as client:
                self.assertEqual(client.stats()["seed_fingerprint"], "<none>")


if __name__ == "__main__":
    unittest.main()
