#!/usr/bin/env bash
# Builds the busybox test base image as an OCI image layout, offline, from Debian's
# busybox-static (/bin/busybox). Tests and the README example build FROM it.
#
#   testdata/images/busybox/make-layout.sh [DEST]     (default: testdata/images/busybox/oci)
#
# Idempotent and reproducible: every timestamp is fixed (SOURCE_DATE_EPOCH, default 0), so the
# same busybox binary always gives the same image digest. The layout is built beside DEST and
# renamed into place, so DEST is either the old layout or the new one. Needs root (file owners)
# and umoci.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/oci}
epoch=${SOURCE_DATE_EPOCH:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
busybox=${BUSYBOX:-/bin/busybox}
tag=latest

command -v umoci >/dev/null || { echo "make-layout.sh: umoci is not installed" >&2; exit 1; }
[ -x "$busybox" ] || { echo "make-layout.sh: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "make-layout.sh: must run as root to set file owners" >&2; exit 1; }

mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$(dirname "$dest")/.make-layout.XXXXXX")
trap 'rm -rf "$work"' EXIT
layout=$work/layout
bundle=$work/bundle

umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle"
root=$bundle/rootfs

# The filesystem: busybox, one symlink per applet, users and groups, writable tmp and homes.
mkdir -p "$root"/{bin,etc,tmp,root,home/app,usr/bin,sbin,usr/sbin,var}
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
staff:x:50:app
nogroup:x:65534:
app:x:1000:
GROUP
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
chown 1000:1000 "$root/home/app"
find "$root" -exec touch -h -d "@$epoch" {} +

umoci repack --image "$layout:$tag" --history.created "$created" \
  --history.created_by "make-layout.sh: busybox $("$busybox" | head -1 | awk '{print $2}')" "$bundle"
umoci config --image "$layout:$tag" --created "$created" --history.created "$created" \
  --history.created_by 'CMD ["/bin/sh"]' \
  --os linux --architecture amd64 \
  --config.env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --config.cmd /bin/sh
umoci gc --layout "$layout"

# Swap the new layout in.
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$layout" "$dest"
rm -rf "$dest.old"
echo "$dest"
