"""kvtier.hash_blocks against `kvtier hash` (the .NET BlockHasher) and its two CBOR encoders against each other."""

import unittest

from kvtier import hashing
from tests.sidecar import kvtier

try:
    import cbor2
except ImportError:  # pragma: no cover
    cbor2 = None


def cli_keys(tokens, *flags):
    out = kvtier("hash", "--tokens", ",".join(str(t) for t in tokens), *flags)
    return [line for line in out.splitlines() if line]


# Token ids at every CBOR integer-head boundary (1, 2, 3 and 5 byte forms) up to the largest id `kvtier hash`
# takes (an int32; vLLM's vocabularies are far smaller).
EDGE_TOKENS = [0, 1, 23, 24, 255, 256, 65535, 65536, 2147483647, 1000, 128000, 7, 99, 100000, 5, 42] * 3


class HashBlocksMatchesTheCli(unittest.TestCase):
    def test_default_block_size_and_seed_give_the_cli_keys(self):
        tokens = list(range(1, 33))
        self.assertEqual([k.hex() for k in hashing.hash_blocks(tokens)], cli_keys(tokens))

    def test_integer_edge_values_and_a_partial_tail_give_the_cli_keys(self):
        keys = [k.hex() for k in hashing.hash_blocks(EDGE_TOKENS + [9, 9, 9])]
        self.assertEqual(len(keys), 3)
        self.assertEqual(keys, cli_keys(EDGE_TOKENS + [9, 9, 9]))

    def test_block_size_seed_lora_and_salt_give_the_cli_keys(self):
        tokens = list(range(500, 540))
        expected = cli_keys(tokens, "--block-tokens", "8", "--seed", "1234", "--lora", "adapter-ü", "--salt", "s" * 30)
        actual = hashing.hash_blocks(tokens, 8, "1234", lora="adapter-ü", salt="s" * 30)
        self.assertEqual([k.hex() for k in actual], expected)

    def test_salt_alone_changes_only_the_first_block_input(self):
        tokens = list(range(64))
        self.assertEqual([k.hex() for k in hashing.hash_blocks(tokens, salt="tenant-a")],
                         cli_keys(tokens, "--salt", "tenant-a"))
        self.assertNotEqual(hashing.hash_blocks(tokens, salt="tenant-a")[0], hashing.hash_blocks(tokens)[0])

    def test_empty_lora_and_salt_count_as_absent(self):
        tokens = list(range(32))
        self.assertEqual(hashing.hash_blocks(tokens, lora="", salt=""), hashing.hash_blocks(tokens))


class HashBlocksRules(unittest.TestCase):
    def test_fewer_tokens_than_a_block_give_no_keys(self):
        self.assertEqual(hashing.hash_blocks(list(range(15))), [])

    def test_negative_token_is_rejected_with_the_value(self):
        with self.assertRaisesRegex(ValueError, "-1"):
            hashing.hash_blocks([-1] * 16)

    def test_non_positive_block_size_is_rejected(self):
        with self.assertRaises(ValueError):
            hashing.hash_blocks([1] * 16, 0)

    def test_event_id_is_the_last_eight_bytes_big_endian(self):
        key = bytes(range(32))
        self.assertEqual(hashing.event_id(key), int.from_bytes(bytes(range(24, 32)), "big"))

    def test_parse_key_accepts_hex_and_rejects_wrong_lengths(self):
        key = hashing.hash_blocks(list(range(16)))[0]
        self.assertEqual(hashing.parse_key(key.hex()), key)
        with self.assertRaisesRegex(ValueError, "32 bytes"):
            hashing.parse_key(b"abc")
        with self.assertRaisesRegex(ValueError, "not hex"):
            hashing.parse_key("zz")


class CanonicalCbor(unittest.TestCase):
    def test_builtin_encoder_writes_the_rfc8949_examples(self):
        cases = {0: "00", 23: "17", 24: "1818", 255: "18ff", 256: "190100", 65536: "1a00010000",
                 4294967296: "1b0000000100000000", None: "f6", "": "60", "a": "6161", b"\x01\x02": "420102",
                 (1, (2, 3)): "8201820203"}
        for value, expected in cases.items():
            with self.subTest(value=value):
                self.assertEqual(hashing.cbor_canonical(list(value) if isinstance(value, tuple) else value).hex(),
                                 expected)

    def test_builtin_encoder_gives_the_same_keys_as_the_default_path(self):
        tokens = EDGE_TOKENS + list(range(70000, 70040))
        self.assertEqual(hashing.hash_blocks(tokens, use_cbor2=False, lora="l", salt="s"),
                         hashing.hash_blocks(tokens, lora="l", salt="s"))

    @unittest.skipIf(cbor2 is None, "python3-cbor2 is not installed")
    def test_builtin_encoder_matches_cbor2_canonical(self):
        parent = hashing.root_key("0")
        for value in ["0", "x" * 300, parent, [parent, EDGE_TOKENS, None], [parent, list(range(300)), ["lora", "salt"]]]:
            with self.subTest(value=repr(value)[:40]):
                self.assertEqual(hashing.cbor_canonical(value), cbor2.dumps(value, canonical=True))


if __name__ == "__main__":
    unittest.main()
