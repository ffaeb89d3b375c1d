"""kvtier.Client against real sidecars with API keys (tenants, the shared namespace through ``namespace``), over
TLS (``https://`` with ``ca_file``), and the optional ``turn`` of lookup and plan (kvtier_hit_rate_by_turn)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

import grpc

import kvtier
from tests.sidecar import Sidecar

TEAM_A_KEY = "team-a-key-0123456789abcdef"
TEAM_B_KEY = "team-b-key-0123456789abcdef"
ADMIN_KEY = "ops-admin-key-0123456789abcdef"
AUTH_CONFIG = {"KvTier": {"Auth": {
    "ApiKeys": {TEAM_A_KEY: "team-a", TEAM_B_KEY: "team-b"},
    "AdminKeys": {ADMIN_KEY: "ops"},
}}}


def chain(first_token, blocks=1):
    return kvtier.hash_blocks(list(range(first_token, first_token + 16 * blocks)))


class Tenants(unittest.TestCase):
    """One sidecar with keys of two tenants and an admin key (temp --config file)."""

    @classmethod
    def setUpClass(cls):
        cls.sidecar = Sidecar(config=AUTH_CONFIG)

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.stop()

    def client(self, api_key=None, namespace=None):
        client = kvtier.Client(self.sidecar.address, api_key, namespace=namespace, timeout=30)
        self.addCleanup(client.close)
        return client

    def assertCode(self, code, call, *args):
        with self.assertRaises(grpc.RpcError) as raised:
            call(*args)
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        return raised.exception

    def test_an_admin_key_with_namespace_shared_puts_a_block_every_tenant_then_reads(self):
        key = chain(10_000)[0]
        data = os.urandom(3000)
        self.assertEqual(self.client(ADMIN_KEY, "shared").put(key, data), len(data))
        self.assertEqual(self.client(TEAM_A_KEY).get(key), data)
        self.assertEqual(self.client(TEAM_B_KEY).get(key), data)
        self.assertEqual(self.client(TEAM_A_KEY).lookup([key]).prefix_blocks, 1)

    def test_a_lookup_chain_starts_in_shared_and_goes_on_in_the_callers_tenant(self):
        keys = chain(11_000, 3)
        self.client(ADMIN_KEY, "shared").put(keys[0], b"s" * 100)
        self.client(TEAM_A_KEY).put(keys[1], b"a" * 100)
        self.assertEqual(self.client(TEAM_A_KEY).lookup(keys).prefix_blocks, 2)
        self.assertEqual(self.client(TEAM_B_KEY).lookup(keys).prefix_blocks, 1)

    def test_with_namespace_shared_a_tenant_reads_shared_only(self):
        own, public = chain(12_000, 2)
        self.client(TEAM_A_KEY).put(own, b"own")
        self.client(ADMIN_KEY, "shared").put(public, b"public")
        shared_only = self.client(TEAM_A_KEY, "shared")
        self.assertEqual(shared_only.get(public), b"public")
        self.assertIsNone(shared_only.get(own))
        self.assertEqual(self.client(TEAM_A_KEY).get(own), b"own")

    def test_without_namespace_an_admin_key_writes_its_own_tenant(self):
        key = chain(13_000)[0]
        self.client(ADMIN_KEY).put(key, b"ops")
        self.assertEqual(self.client(ADMIN_KEY).get(key), b"ops")
        self.assertIsNone(self.client(TEAM_A_KEY).get(key))

    def test_a_tenants_blocks_are_not_there_for_another_tenant(self):
        key = chain(14_000)[0]
        self.client(TEAM_A_KEY).put(key, b"mine")
        self.assertIsNone(self.client(TEAM_B_KEY).get(key))
        self.assertEqual(self.client(TEAM_B_KEY).delete([key]), 0)
        self.assertEqual(self.client(TEAM_A_KEY).get(key), b"mine")

    def test_a_key_that_is_not_an_admin_key_is_refused_permission_denied_on_a_shared_put(self):
        key = chain(15_000)[0]
        error = self.assertCode(grpc.StatusCode.PERMISSION_DENIED, self.client(TEAM_A_KEY, "shared").put, key, b"x")
        self.assertIn("kvtier-namespace", error.details())
        self.assertNotIn(TEAM_A_KEY, error.details())
        self.assertIsNone(self.client(TEAM_A_KEY).get(key))
        self.assertIsNone(self.client(ADMIN_KEY, "shared").get(key))

    def test_naming_another_tenant_as_the_namespace_is_permission_denied(self):
        self.assertCode(grpc.StatusCode.PERMISSION_DENIED, self.client(TEAM_A_KEY, "team-b").get, chain(16_000)[0])

    def test_naming_the_keys_own_tenant_as_the_namespace_is_allowed(self):
        key = chain(16_100)[0]
        self.client(TEAM_A_KEY, "team-a").put(key, b"own")
        self.assertEqual(self.client(TEAM_A_KEY).get(key), b"own")

    def test_a_call_without_a_key_is_unauthenticated(self):
        error = self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.client().put, chain(17_000)[0], b"x")
        self.assertIn("authorization: Bearer", error.details())
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.client(namespace="shared").get, chain(17_000)[0])

    def test_a_call_with_an_unknown_key_is_unauthenticated(self):
        unknown = "not-a-configured-key-0123456789"
        error = self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.client(unknown).stats)
        self.assertNotIn(unknown, error.details())


def _self_signed(directory):
    """A self-signed certificate for 127.0.0.1 and localhost and its key (PEM files) made with openssl."""
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@unittest.skipIf(shutil.which("openssl") is None, "openssl is not installed (it makes the test certificate)")
class Tls(unittest.TestCase):
    """A sidecar serving HTTPS (--tls-cert/--tls-key) with API keys; clients dial https:// and trust ca_file."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="kvtier-pytest-tls-")
        cls.cert, key = _self_signed(cls.directory)
        try:
            cls.sidecar = Sidecar("--tls-cert", cls.cert, "--tls-key", key, config=AUTH_CONFIG)
        except Exception:
            shutil.rmtree(cls.directory, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_the_sidecar_serves_https(self):
        self.assertTrue(self.sidecar.address.startswith("https://127.0.0.1:"), self.sidecar.address)

    def test_a_client_trusting_the_certificate_puts_and_gets_with_its_key_and_namespace(self):
        key = chain(20_000)[0]
        with kvtier.Client(self.sidecar.address, ADMIN_KEY, namespace="shared", ca_file=self.cert, timeout=30) as admin:
            admin.put(key, b"over tls")
        with kvtier.Client(self.sidecar.address, TEAM_A_KEY, ca_file=self.cert, timeout=30) as team_a:
            self.assertEqual(team_a.get(key), b"over tls")

    def test_without_the_certificate_the_server_is_not_trusted(self):
        with kvtier.Client(self.sidecar.address, TEAM_A_KEY, timeout=10) as client:
            with self.assertRaises(grpc.RpcError) as raised:
                client.stats()
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_plain_h2c_is_not_served(self):
        with kvtier.Client("http://" + self.sidecar.target, TEAM_A_KEY, timeout=10) as client:
            with self.assertRaises(grpc.RpcError) as raised:
                client.stats()
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)


class CaFileArgument(unittest.TestCase):
    def test_ca_file_needs_an_https_target(self):
        for target in ("127.0.0.1:1", "http://127.0.0.1:1"):
            with self.assertRaises(ValueError) as raised:
                kvtier.Client(target, ca_file="/nonexistent/ca.crt")
            self.assertIn("https://127.0.0.1:1", str(raised.exception))

    def test_a_ca_file_without_a_certificate_is_refused_naming_the_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
            f.write("not a certificate\n")
        self.addCleanup(os.unlink, f.name)
        with self.assertRaises(ValueError) as raised:
            kvtier.Client("https://127.0.0.1:1", ca_file=f.name)
        self.assertIn(f.name, str(raised.exception))

    def test_a_missing_ca_file_raises_file_not_found(self):
        with self.assertRaises(FileNotFoundError):
            kvtier.Client("https://127.0.0.1:1", ca_file="/nonexistent/kvtier-ca.crt")


def _gauge(metrics_text, name, **labels):
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{re.escape(name)}\{{{re.escape(selector)}\}} (\S+)$", metrics_text, re.MULTILINE)
    if found is None:
        raise AssertionError(f"no {name}{{{selector}}} in /metrics:\n{metrics_text}")
    return float(found.group(1))


class Turn(unittest.TestCase):
    """The optional turn of lookup and plan reaches the server: kvtier_hit_rate_by_turn counts only such lookups."""

    @classmethod
    def setUpClass(cls):
        cls.sidecar = Sidecar("--metrics", "127.0.0.1:0")
        cls.metrics = cls.sidecar.metrics_address() + "/metrics"

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.stop()

    def setUp(self):
        self.client = kvtier.Client(self.sidecar.address, timeout=30)
        self.addCleanup(self.client.close)

    def scrape(self):
        with urllib.request.urlopen(self.metrics, timeout=10) as response:
            return response.read().decode("utf-8")

    def test_lookup_with_a_turn_feeds_that_turns_bucket(self):
        keys = chain(30_000, 4)
        self.client.put(keys[0], b"t" * 64)
        self.client.lookup(keys, turn=5)                  # bucket 4-7: 1 of 4 blocks cached
        self.client.lookup(chain(31_000, 4))               # no turn: not counted in any bucket
        self.assertEqual(_gauge(self.scrape(), "kvtier_hit_rate_by_turn", turn_bucket="4-7"), 0.25)

    def test_plan_with_a_turn_feeds_that_turns_bucket(self):
        keys = chain(32_000, 2)
        self.client.put(keys[0], b"p" * 64)
        self.client.put(keys[1], b"p" * 64)
        result = self.client.plan(keys, "llama-3.1-8b", "h100-sxm", prompt_tokens=40, turn=9)  # bucket 8+
        self.assertEqual(result.prefix_blocks, 2)
        self.assertIsNotNone(result.plan)
        self.assertEqual(_gauge(self.scrape(), "kvtier_hit_rate_by_turn", turn_bucket="8+"), 1.0)

    def test_turn_zero_is_sent_as_a_turn(self):
        keys = chain(33_000, 2)
        self.client.put(keys[0], b"0")
        self.client.lookup(keys, turn=0)                    # bucket 0: 1 of 2 blocks (unsent, it would stay 0)
        self.assertEqual(_gauge(self.scrape(), "kvtier_hit_rate_by_turn", turn_bucket="0"), 0.5)

    def test_a_negative_or_fractional_turn_is_refused_before_the_call(self):
        for turn in (-1, 1.5, True, 1 << 32):
            with self.assertRaises(ValueError):
                self.client.lookup(chain(34_000, 1), turn=turn)


if __name__ == "__main__":
    unittest.main()
