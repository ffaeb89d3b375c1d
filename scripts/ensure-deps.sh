#!/usr/bin/env bash
# Installs what the tests and benchmarks need when it is missing (Debian packages; run as root as CI does).
set -euo pipefail
need=()
command -v dotnet >/dev/null || { echo "dotnet SDK 10 is required: https://dot.net" >&2; exit 1; }
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
