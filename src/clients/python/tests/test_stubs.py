"""The committed stubs under kvtier/v1 are what scripts/gen-python-stubs.sh makes from src/KvTier.Protos today."""

import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.sidecar import REPO

STUBS = REPO / "src" / "clients" / "python" / "kvtier" / "v1"
PROTOS = REPO / "src" / "KvTier.Protos"


def _protoc_321() -> bool:
    if not shutil.which("protoc") or not shutil.which("grpc_python_plugin"):
        return False
    version = subprocess.run(["protoc", "--version"], capture_output=True, text=True).stdout
    return version.startswith("libprotoc 3.21.")


class CommittedStubs(unittest.TestCase):
    def test_every_proto_has_message_and_service_stubs(self):
        for proto in sorted((PROTOS / "kvtier" / "v1").glob("*.proto")):
            with self.subTest(proto=proto.name):
                self.assertTrue((STUBS / f"{proto.stem}_pb2.py").exists())
                self.assertTrue((STUBS / f"{proto.stem}_pb2_grpc.py").exists())

    @unittest.skipUnless(_protoc_321(), "needs protoc 3.21 and grpc_python_plugin (Debian protobuf-compiler, protobuf-compiler-grpc)")
    def test_stubs_match_the_protos(self):
        with tempfile.TemporaryDirectory() as out:
            plugin = shutil.which("grpc_python_plugin")
            protos = [str(p.relative_to(PROTOS)) for p in sorted((PROTOS / "kvtier" / "v1").glob("*.proto"))]
            subprocess.run(["protoc", "-I", ".", f"--python_out={out}", f"--grpc_python_out={out}",
                            f"--plugin=protoc-gen-grpc_python={plugin}", *protos], cwd=PROTOS, check=True)
            for generated in sorted((Path(out) / "kvtier" / "v1").glob("*.py")):
                with self.subTest(stub=generated.name):
                    committed = STUBS / generated.name
                    self.assertTrue(committed.exists(), f"{generated.name} is missing: run scripts/gen-python-stubs.sh")
                    self.assertTrue(committed.read_text() == generated.read_text(),
                                    f"{generated.name} is stale: run scripts/gen-python-stubs.sh and commit the result")


if __name__ == "__main__":
    unittest.main()
