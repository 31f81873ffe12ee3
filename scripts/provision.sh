#!/usr/bin/env bash
# Provision what the test bench needs, idempotently, cached outside the repo.
#
# - Asterisk: a system `asterisk` (20 or newer) when one is on PATH; otherwise
#   a small Debian sid root built once with debootstrap (Debian 12 has no
#   asterisk package) and run with chroot, sharing the host's loopback.
# - PostgreSQL server binaries (initdb, pg_ctl) from Debian's packages if missing.
# - espeak-ng and sox from Debian's packages: `teamfoned sounds generate` speaks the prompt set
#   for languages Asterisk ships no sounds for (the bench's PBX plays the Dutch set).
# - Chromium (Debian's package) for the web app's browser tests; Playwright drives it
#   through its executable path (Playwright's own browser download is not used).
# - SIPp is not needed: the carrier is a second Asterisk instance.
#
# Prints, as its last line, `ASTERISK_ROOT=<dir>` (empty for a system asterisk)
# so callers can record where Asterisk lives.
set -euo pipefail

CACHE_DIR="${TEAMFONED_CACHE_DIR:-/var/cache/teamfoned}"
ROOT="$CACHE_DIR/asterisk-root"
log() { printf 'provision: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

# The Debian mirror the machine's own apt sources use; never hard-coded here.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    log "cannot find a Debian mirror in the apt sources"; exit 1
  fi
  printf '%s\n' "$uri"
}

system_asterisk_ok() {
  command -v asterisk >/dev/null 2>&1 || return 1
  local major
  major=$(asterisk -V 2>/dev/null | sed -n 's/^Asterisk \([0-9]*\).*/\1/p')
  [ -n "$major" ] && [ "$major" -ge 20 ]
}

provision_asterisk_root() {
  if [ -x "$ROOT/usr/sbin/asterisk" ] && [ -f "$ROOT/.teamfoned-complete" ]; then
    log "asterisk root cached at $ROOT ($(chroot "$ROOT" asterisk -V))"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  local mirror tmp
  mirror=$(debian_mirror)
  tmp="$ROOT.partial"
  as_root rm -rf "$tmp"
  as_root mkdir -p "$CACHE_DIR"
  log "building a Debian sid root with Asterisk into $ROOT (about a minute)"
  as_root debootstrap --variant=minbase --include=asterisk,asterisk-modules,asterisk-core-sounds-en-gsm \
    sid "$tmp" "$mirror" >&2
  # Asterisk refuses to start without these directories inside the root.
  as_root mkdir -p "$tmp/var/run/asterisk" "$tmp/var/lib/asterisk" "$tmp/var/log/asterisk"
  as_root touch "$tmp/.teamfoned-complete"
  as_root rm -rf "$ROOT"
  as_root mv "$tmp" "$ROOT"
  log "asterisk root ready: $(chroot "$ROOT" asterisk -V)"
}

provision_postgres() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "postgresql server binaries present"
    return
  fi
  log "installing the PostgreSQL server from Debian's packages"
  apt_install postgresql
}

provision_espeak() {
  if command -v espeak-ng >/dev/null 2>&1 && command -v sox >/dev/null 2>&1; then
    log "espeak-ng and sox present"
    return
  fi
  log "installing espeak-ng and sox from Debian's packages"
  apt_install espeak-ng sox
}

provision_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    log "chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
    return
  fi
  log "installing chromium from Debian's packages (browser tests)"
  apt_install chromium
}

provision_postgres
provision_espeak
provision_chromium
if system_asterisk_ok; then
  log "using system asterisk: $(asterisk -V)"
  echo "ASTERISK_ROOT="
else
  provision_asterisk_root
  echo "ASTERISK_ROOT=$ROOT"
fi
