#!/usr/bin/env bash
# For .ci/run: makes sure a PostgreSQL server is reachable for the read-model
# tests that run on it, and prints the DATABASE_URL to use. A server already
# answering (DATABASE_URL, or 127.0.0.1:5432 with trust auth) is used as it
# is: the tests create and drop databases of their own and touch nothing else.
# Otherwise PostgreSQL is installed from Debian packages when missing and a
# throwaway cluster is started in a temporary folder (given as $1), on its own
# port; `<folder>/stop.sh` stops it. CI_POSTGRES_FRESH=1 always starts one.
set -euo pipefail
folder=${1:?usage: ci-postgres.sh <temporary folder>}

if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; exit 0; fi
if [ -z "${CI_POSTGRES_FRESH:-}" ] && command -v psql >/dev/null 2>&1 && psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:5432/postgres"
  exit 0
fi

find_bin() { command -v "$1" 2>/dev/null || ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1; }
if [ -z "$(find_bin initdb)" ]; then
  echo "Installing PostgreSQL from Debian packages" >&2
  SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2
fi
initdb=$(find_bin initdb) pg_ctl=$(find_bin pg_ctl)

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_owner=(runuser -u postgres --)
  chmod 755 "$folder"
fi
mkdir -p "$folder/data"
[ "$(id -u)" -eq 0 ] && chown postgres "$folder/data"
port=54329
"${as_owner[@]}" "$initdb" -D "$folder/data" -A trust -U postgres >/dev/null
"${as_owner[@]}" "$pg_ctl" -D "$folder/data" -l "$folder/data/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$folder/data -c fsync=off" start >&2
printf '%q ' "${as_owner[@]}" "$pg_ctl" -D "$folder/data" stop -m fast > "$folder/stop.sh"
echo "postgres://postgres@127.0.0.1:$port/postgres"
