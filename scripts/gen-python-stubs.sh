#!/usr/bin/env bash
# Regenerates the Python client's gRPC stubs (src/clients/python/kvtier/v1/*_pb2*.py) from src/KvTier.Protos.
# They are committed, so using or testing the client needs no compiler; run this after changing a .proto.
# The compilers must match the runtime the client targets (Debian bookworm: python3-protobuf 3.21, python3-grpcio
# 1.51): code from a newer protoc does not load on protobuf 3.21. Debian's protobuf-compiler is 3.21 and
# protobuf-compiler-grpc ships the grpc 1.51 Python plugin. (python3-grpc-tools is no use: its bundled protoc 3.5
# predates proto3 `optional`.)  Usage: scripts/gen-python-stubs.sh [OUT_DIR]   (default: the package's kvtier/v1)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/src/clients/python}
"$root/scripts/ensure-deps.sh" protobuf-compiler protobuf-compiler-grpc
plugin=$(command -v grpc_python_plugin)
mkdir -p "$out/kvtier/v1"
cd "$root/src/KvTier.Protos"
protoc -I . --python_out="$out" --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" kvtier/v1/*.proto
echo "generated $(cd "$out/kvtier/v1" && ls ./*_pb2*.py | wc -l) stub files in $out/kvtier/v1 ($(protoc --version))"
