#!/usr/bin/env bash
# Installs the Debian packages the service and its tests need when they are
# missing: redis-server (the embedded default starts its own Redis), curl and
# openssl (the README's walkthrough and its test) and the tool chain
# better-sqlite3 builds with when no prebuilt binary can be fetched.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "Missing ${missing[*]} and not root: install them with your package manager, then run this again." >&2
  exit 1
fi
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# A packaged redis-server may start a system-wide instance on 6379; the
# service never uses it (it starts its own unless REDIS_URL is set).
