#!/usr/bin/env bash
# The main job: set up this machine, then create a bridge on a sandbox SSH host
# through the real Pulumi engine and show it. `bash scripts/demo.sh destroy` tears it down.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-up}"
if [ "$action" = "up" ]; then bash scripts/setup.sh; fi
. scripts/env.sh
exec node dist/scripts/demo.js "$action"
