#!/bin/sh
# Build a busybox rootfs offline from Debian's busybox-static: make-rootfs.sh DIR
# The result is cached: a stamp names the busybox binary it was made from.
set -eu
dir=${1:?usage: make-rootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-rootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
stamp="$dir/.skua-rootfs"
want=$(sha256sum "$bb" | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
rm -rf "$dir"
mkdir -p "$dir"
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root var/www run home; do mkdir -p "$dir/$d"; done
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for app in $("$bb" --list-full); do
	[ "$app" = bin/busybox ] && continue
	mkdir -p "$dir/$(dirname "$app")"
	ln -sf /bin/busybox "$dir/$app"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/home:/bin/false' >> "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
echo '<html><body>skua says hello</body></html>' > "$dir/var/www/index.html"
echo "$want" > "$stamp"
