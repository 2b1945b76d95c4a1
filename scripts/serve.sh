#!/usr/bin/env bash
# Several dashboard processes behind nginx on one machine (docs/DEPLOY.md, "Several replicas").
#
#   scripts/serve.sh REPLICAS [PORT]      (make serve REPLICAS=n [PORT=8501])
#
# Starts REPLICAS `streamlit run dashboard.py` processes on loopback ports PORT+101, PORT+102, .. and nginx on
# PORT in front of them, in the foreground; Ctrl-C stops them all.
#
# Why several processes: a Streamlit server runs every session's script in threads of one Python
# process, so the Python parts of all views (widgets, tables, chart specs) share one interpreter
# lock: one core, whatever the machine has. Processes use the other cores.
#
# Sticky sessions: a session's websocket and its uploads must reach the process that holds the
# session. nginx picks the replica by a hash of Streamlit's XSRF cookie (set on the browser's first
# request, the same for every request of that browser afterwards); requests without it (the page
# itself, static files) may go anywhere. Open-source nginx has no "sticky cookie"; `hash ...
# consistent` does the same job with a cookie the application already sets.
#
# Shared caches: every replica reads and writes the same store on disk ($DNNLENS_CACHE, default
# ~/.cache/dnnlens; core.diskstore), so a phoneme's statistics computed by one replica are read by
# the others (a file lock makes the others wait instead of computing it too).
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICAS=${1:-2}
PORT=${2:-8501}
VENV=.venv
say() { printf 'serve: %s\n' "$*" >&2; }

if ! [[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || ! [[ "$PORT" =~ ^[0-9]+$ ]]; then
  say "usage: scripts/serve.sh REPLICAS [PORT]   (REPLICAS >= 1)"
  exit 2
fi
NGINX=$(command -v nginx || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "apt: installing nginx"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }
    NGINX=/usr/sbin/nginx
  else
    say "nginx is missing: sudo apt-get install nginx, then run this again"
    exit 1
  fi
fi

# the run folder (nginx's configuration and logs, the replicas' logs and pids): $DNNLENS_SERVE_DIR
# if set (tests/replicas.py reads the pids there), else a new temporary folder
RUN=${DNNLENS_SERVE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/dnnlens-serve.XXXXXX")}
mkdir -p "$RUN"
pids=()
stop() {
  trap - INT TERM EXIT
  say "stopping"
  [ -f "$RUN/nginx.pid" ] && kill "$(cat "$RUN/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap stop INT TERM EXIT

servers=""
cores=$(nproc)
threads=$(( cores / REPLICAS )); [ "$threads" -lt 1 ] && threads=1
for i in $(seq 1 "$REPLICAS"); do
  p=$((PORT + 100 + i))
  DNNLENS_TORCH_THREADS=${DNNLENS_TORCH_THREADS:-$threads} "$VENV/bin/streamlit" run dashboard.py \
    --server.port "$p" --server.address 127.0.0.1 --server.headless true >"$RUN/replica$i.log" 2>&1 &
  pids+=($!)
  echo "$!" >>"$RUN/replicas.pid"
  servers+="    server 127.0.0.1:$p;"$'\n'
done

cat >"$RUN/nginx.conf" <<EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $RUN/body;
  proxy_temp_path $RUN/proxy;
  fastcgi_temp_path $RUN/fastcgi;
  uwsgi_temp_path $RUN/uwsgi;
  scgi_temp_path $RUN/scgi;
  client_max_body_size 26m;  # .streamlit/config.toml: maxUploadSize = 25 (MB)
  # uploads go straight through to the replica (no temporary file: nginx's workers may run as
  # another user than the run folder's owner)
  proxy_request_buffering off;
  client_body_buffer_size 1m;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream dnnlens {
    hash \$cookie__streamlit_xsrf consistent;
$servers  }
  server {
    listen $PORT;
    location / {
      proxy_pass http://dnnlens;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_read_timeout 1d;
      proxy_buffering off;
    }
  }
}
EOF

# wait until every replica answers its health check
for i in $(seq 1 "$REPLICAS"); do
  p=$((PORT + 100 + i))
  for _ in $(seq 1 600); do
    "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$p/_stcore/health', timeout=2)" \
      >/dev/null 2>&1 && break
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { say "replica $i did not start:"; cat "$RUN/replica$i.log" >&2; exit 1; }
    sleep 0.2
  done
done
"$NGINX" -e "$RUN/nginx-error.log" -c "$RUN/nginx.conf" -p "$RUN" -g "daemon on;"
say "$REPLICAS replicas ($threads torch threads each) behind nginx: http://localhost:$PORT  (Ctrl-C stops them)"
echo "$RUN" >"$RUN/ready"
wait "${pids[@]}"
