#!/usr/bin/env bash
# Runs a throwaway cluster of the machine's PostgreSQL server (Debian's `postgresql` package)
# for the tests that use a real server through DATABASE_URL.
#   postgres-server.sh start DIR   initialises DIR, starts the server, prints its URL
#   postgres-server.sh stop DIR    stops it
#   postgres-server.sh resume DIR  starts a stopped (or killed) cluster again, on the same port
#   postgres-server.sh kill DIR    kills the server with SIGKILL, as a crash would
#   postgres-server.sh find        prints the server's bin directory, or fails
set -euo pipefail

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

# PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

cmd=${1:-}
case "$cmd" in
  find)
    find_bin
    ;;
  start)
    dir=${2:?usage: postgres-server.sh start DIR}
    bin=$(find_bin) || { echo "PostgreSQL server binaries not found (apt-get install -y --no-install-recommends postgresql)" >&2; exit 1; }
    mkdir -p "$dir" && chmod 755 "$dir"
    [ "$(id -u)" = "0" ] && as_owner true && chown postgres:postgres "$dir"
    password=$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')
    printf '%s\n' "$password" > "$dir/.pw" && chmod 600 "$dir/.pw"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$dir/.pw"
    as_owner "$bin/initdb" -D "$dir/data" -U vault_test --pwfile="$dir/.pw" -A scram-sha-256 -E UTF8 --no-locale >/dev/null
    rm -f "$dir/.pw"
    port=$(free_port)
    # In the configuration, so that a resumed cluster comes back on the same address.
    printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 300\n" "$port" \
      | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    as_owner "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" >/dev/null
    echo "postgres://vault_test:${password}@127.0.0.1:${port}/postgres"
    ;;
  resume)
    dir=${2:?usage: postgres-server.sh resume DIR}
    bin=$(find_bin)
    # After a kill the old postmaster and its children take a moment to be gone.
    for _ in $(seq 1 50); do
      if as_owner "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" >/dev/null 2>&1; then exit 0; fi
      sleep 0.2
    done
    echo "could not resume the server in $dir (see $dir/server.log)" >&2
    exit 1
    ;;
  kill)
    dir=${2:?usage: postgres-server.sh kill DIR}
    kill -KILL "$(head -n 1 "$dir/data/postmaster.pid")"
    ;;
  stop)
    dir=${2:?usage: postgres-server.sh stop DIR}
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null
    ;;
  *)
    echo "usage: postgres-server.sh start DIR | stop DIR | resume DIR | kill DIR | find" >&2
    exit 2
    ;;
esac
