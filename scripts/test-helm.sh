#!/usr/bin/env bash
# Lints and renders the Helm chart (deploy/helm/kvtier) with its defaults and with the optional parts switched, where
# helm is installed. Without helm the chart is still checked by tests/KvTier.Deploy.Tests (values, blocks, kinds).
set -euo pipefail
chart=$(cd "$(dirname "$0")/../deploy/helm/kvtier" && pwd)
if ! command -v helm >/dev/null; then
  echo "helm: not installed, skipped lint and template (the chart is checked by KvTier.Deploy.Tests)"
  exit 0
fi
helm lint --strict "$chart"
helm template kvtier "$chart" --namespace kvtier >/dev/null
helm template kvtier "$chart" --namespace kvtier --set etcd.enabled=false --set etcd.external=http://etcd:2379 \
  --set auth.apiKeys.k1=tenant-a --set auth.clusterSecret=s --set namespace.create=true \
  --set store.ssdHostPath=/mnt/nvme/kvtier --set store.ssdSize=100GiB >/dev/null
helm template kvtier "$chart" --namespace kvtier --set etcd.enabled=false --set auth.existingSecret=mine >/dev/null
echo "helm: lint and 3 renders passed"
