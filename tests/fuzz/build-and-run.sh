#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the image-reader fuzzer with clang (libFuzzer + ASan + UBSan) straight
# from the sources it needs, seed it with valid images, and run it for
# FUZZ_SECONDS (default 60). Exits non-zero if the fuzzer finds a crash, a
# leak or a sanitizer report; the reproducer lands in $OUT/fuzz-artifacts/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${FUZZ_BUILD:-$ROOT/build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}

need_pkgs=""
command -v "$CC" >/dev/null || need_pkgs="clang"
# libFuzzer's runtime lives in clang's resource dir (Debian: libclang-rt-N-dev)
if command -v "$CC" >/dev/null; then
	rt=$("$CC" -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a
	[ -e "$rt" ] || need_pkgs="$need_pkgs libclang-rt-$("$CC" -dumpversion | cut -d. -f1)-dev"
fi
if [ -n "$need_pkgs" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing:$need_pkgs"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >/dev/null
	else
		echo "fuzz: missing$need_pkgs (apt-get install clang libclang-rt-14-dev)" >&2
		exit 1
	fi
fi

mkdir -p "$OUT/proto" "$OUT/fuzz-obj" "$OUT/fuzz-corpus" "$OUT/fuzz-seeds" "$OUT/fuzz-artifacts"
for p in "$ROOT"/libcontainer/cr/proto/*.proto; do
	protoc-c --proto_path="$ROOT/libcontainer/cr/proto" --c_out="$OUT/proto" "$p"
done

PKG_CFLAGS=$(pkg-config --cflags yajl libprotobuf-c)
PKG_LIBS=$(pkg-config --libs yajl libprotobuf-c)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -I$ROOT -I$ROOT/libcontainer -I$OUT/proto $PKG_CFLAGS $SAN"
SRCS="libcontainer/cr/image.c libcontainer/cr/show.c libcontainer/cr/stats.c
      libcontainer/base/error.c libcontainer/base/fd.c libcontainer/base/json.c"

objs=()
for s in $SRCS; do
	o="$OUT/fuzz-obj/$(basename "${s%.c}").o"
	"$CC" $CFLAGS -fsanitize=fuzzer-no-link -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wno-missing-field-initializers -c -o "$o" "$ROOT/$s"
	objs+=("$o")
done
for c in "$OUT"/proto/*.pb-c.c; do
	o="$OUT/fuzz-obj/$(basename "${c%.c}").o"
	"$CC" $CFLAGS -fsanitize=fuzzer-no-link -w -c -o "$o" "$c"
	objs+=("$o")
done

"$CC" $CFLAGS -fsanitize=fuzzer -Wall -Wextra -Werror -o "$OUT/fuzz-image" \
	"$ROOT/tests/fuzz/fuzz-image.c" "${objs[@]}" $PKG_LIBS
"$CC" $CFLAGS -fsanitize=fuzzer-no-link -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-o "$OUT/make-seeds" "$ROOT/tests/fuzz/make-seeds.c" "${objs[@]}" $PKG_LIBS
"$OUT/make-seeds" "$OUT/fuzz-seeds"

echo "fuzz: running fuzz-image for ${FUZZ_SECONDS}s"
# new inputs go to fuzz-corpus (kept between runs); the seeds are read only
"$OUT/fuzz-image" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$OUT/fuzz-artifacts/" -print_final_stats=1 \
	"$OUT/fuzz-corpus" "$OUT/fuzz-seeds"
echo "fuzz: no crash in ${FUZZ_SECONDS}s"
