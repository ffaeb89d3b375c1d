# KvTier — see README.md. `make run` starts one sidecar, `make test` runs every test.
DOTNET ?= dotnet
CONFIG ?= Release
RESULTS ?= artifacts/test-results
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
# The Python client runs on Debian's python3 and its packages (bookworm: grpcio 1.51, protobuf 3.21); the compilers
# check that its committed stubs match the protos (scripts/gen-python-stubs.sh).
PYTHON ?= /usr/bin/python3
PYTHON_DEPS = python3-grpcio python3-protobuf python3-cbor2 python3-xxhash protobuf-compiler protobuf-compiler-grpc

.PHONY: build run test bench clean

## build: the `kvtier` executable at bin/kvtier
build:
	$(DOTNET) publish src/KvTier.Cli/KvTier.Cli.csproj -c $(CONFIG) -o bin --nologo -v quiet
	@echo "built bin/kvtier"

## run: one sidecar on embedded defaults (127.0.0.1:50051, 1 GiB in-memory FASTER store)
run: build
	./bin/kvtier serve

## test: every test project (unit, gRPC functional, CLI against the built binary, deploy files), then the Python
## client against bin/kvtier and, where helm is installed, helm lint/template of the chart
test: build
	scripts/ensure-deps.sh etcd-server redis-server $(PYTHON_DEPS)
	$(DOTNET) build KvTier.sln -c $(CONFIG) --nologo -v quiet
	rm -rf $(RESULTS)
	$(DOTNET) test KvTier.sln -c $(CONFIG) --no-build --nologo --logger "trx" --results-directory $(RESULTS) \
		|| { scripts/test-summary.sh $(RESULTS); exit 1; }
	PYTHON=$(PYTHON) scripts/test-python-client.sh $(RESULTS) || { scripts/test-summary.sh $(RESULTS); exit 1; }
	scripts/test-helm.sh
	scripts/test-summary.sh $(RESULTS)

## bench: the benchmark harness; results go to bench/results/
bench: build
	scripts/ensure-deps.sh redis-server
	./bin/kvtier bench store --json bench/results/store.json --out bench/results/store
	./bin/kvtier bench transfer --json bench/results/transfer.json --out bench/results/transfer
	./bin/kvtier bench net --json bench/results/net.json --out bench/results/net
	./bin/kvtier bench crossover --json bench/results/crossover.json --out bench/results/crossover
	./bin/kvtier bench workload --json bench/results/workload.json --out bench/results/workload

clean:
	rm -rf bin artifacts
	$(DOTNET) clean KvTier.sln -v quiet --nologo
