#!/bin/sh
# podroute's CNI installer (the DaemonSet's init container): puts the podroute-cni IPAM plugin
# and a CNI conflist (ptp + podroute IPAM, then portmap) on the host.
#
# - The plugin: $CNI_BIN_DIR/podroute-cni, one static executable (src/cni/shim/podroute-cni.c) that
#   hands each call to the podroute daemon over its socket; the host needs nothing else for it.
#   A podroute.d/ directory (Node.js and a bundle) left by an older version is removed.
# - ptp and portmap (CNI reference plugins) are copied from the image only where the host has none.
# - The conflist is written only if absent or ours (it carries the marker below): a conflist
#   another network add-on wrote is left alone.
# Every file is written to a temporary name in its own directory and renamed into place, so the
# runtime never reads half a file (rename(2) is atomic within a file system).
#
# Environment (defaults fit the image): CNI_BIN_DIR, CNI_CONF_DIR, CONFLIST_NAME, PODROUTE_HOME,
# PODROUTE_SOCKET, REFERENCE_PLUGINS_DIR.
set -eu

CNI_BIN_DIR=${CNI_BIN_DIR:-/host/opt/cni/bin}
CNI_CONF_DIR=${CNI_CONF_DIR:-/host/etc/cni/net.d}
CONFLIST_NAME=${CONFLIST_NAME:-10-podroute.conflist}
PODROUTE_HOME=${PODROUTE_HOME:-/opt/podroute}
PODROUTE_SOCKET=${PODROUTE_SOCKET:-/run/podroute/podroute.sock}
REFERENCE_PLUGINS_DIR=${REFERENCE_PLUGINS_DIR:-$PODROUTE_HOME/cni-plugins}
TEMPLATE=${TEMPLATE:-$PODROUTE_HOME/deploy/10-podroute.conflist}
MARKER='"managedBy": "podroute-install-cni"'

log() { echo "install-cni: $*" >&2; }

# put SRC DEST MODE: copy SRC beside DEST under a temporary name, then rename it over DEST.
put() {
  tmp="$(dirname "$2")/.$(basename "$2").tmp.$$"
  cp "$1" "$tmp"
  chmod "$3" "$tmp"
  mv -f "$tmp" "$2"
}

mkdir -p "$CNI_BIN_DIR" "$CNI_CONF_DIR"

# The plugin: one file, renamed over the old one (a running call keeps its copy).
put "$PODROUTE_HOME/dist/cni/podroute-cni" "$CNI_BIN_DIR/podroute-cni" 0755
rm -rf "$CNI_BIN_DIR/podroute.d" "$CNI_BIN_DIR/.podroute.d.old"
log "installed $CNI_BIN_DIR/podroute-cni"

for p in ptp portmap; do
  if [ -x "$CNI_BIN_DIR/$p" ]; then
    continue
  elif [ -x "$REFERENCE_PLUGINS_DIR/$p" ]; then
    put "$REFERENCE_PLUGINS_DIR/$p" "$CNI_BIN_DIR/$p" 0755
    log "installed reference plugin $p"
  else
    log "warning: $CNI_BIN_DIR/$p is missing and the image has none: pods cannot start until it is installed"
  fi
done

target="$CNI_CONF_DIR/$CONFLIST_NAME"
if [ -e "$target" ] && ! grep -qF "$MARKER" "$target"; then
  log "left $target alone: it is not podroute's (no $MARKER in it)"
  exit 0
fi
conf="$CNI_CONF_DIR/.$CONFLIST_NAME.src.$$"
# The socket path is the only variable part; '|' cannot occur in it unescaped, '&' and '\' are escaped.
socket=$(printf '%s' "$PODROUTE_SOCKET" | sed 's/[&\\|]/\\&/g')
sed "s|__PODROUTE_SOCKET__|$socket|" "$TEMPLATE" > "$conf"
if ! grep -qF "$MARKER" "$conf"; then
  rm -f "$conf"
  log "error: the template $TEMPLATE lacks the marker $MARKER"
  exit 1
fi
put "$conf" "$target" 0644
rm -f "$conf"
log "wrote $target"
