#!/usr/bin/env bash
# Starts dockerd when none answers (without Docker's own bridge or iptables rules,
# so it never changes the root namespace's networking) and waits until it is ready.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  echo "==> dockerd is running"
  exit 0
fi
command -v dockerd >/dev/null || { echo "start-dockerd: dockerd not installed (Debian package docker.io)" >&2; exit 1; }
log=/var/log/hostnet-dockerd.log
echo "==> starting dockerd --iptables=false --ip6tables=false --bridge=none (log: $log)"
setsid nohup dockerd --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false >"$log" 2>&1 &
echo $! > /run/hostnet-dockerd.pid
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "==> dockerd ready (pid $(cat /run/hostnet-dockerd.pid))"; exit 0; }
  sleep 1
done
echo "start-dockerd: dockerd did not become ready in 60 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
