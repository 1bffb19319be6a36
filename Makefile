# SPDX-License-Identifier: GPL-2.0-or-later
# skua: build, dependencies, tests, demo and benchmarks.

PKGS      := libseccomp yajl libcap libprotobuf-c
DEB_PKGS  := gcc make pkg-config libseccomp-dev libyajl-dev libcap-dev \
             libprotobuf-c-dev protobuf-c-compiler busybox-static bats \
             iproute2 jq procps
BENCH_PKGS := crun runc hyperfine gnuplot-nox

CC        ?= gcc
BUILD     ?= build
CFLAGS    ?= -O2 -g
override CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
             -Wno-unused-parameter -Wno-missing-field-initializers \
             -I. -Ilibcontainer -I$(BUILD)/proto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# skua itself is linked statically, from the .a files the -dev packages
# ship: no ld.so at each start and a smaller address space for each fork, in
# every exec of skua and in a lazy restore's downtime (docs/perf-run.md,
# docs/lazy-migration.md). STATIC=0 links it dynamically (the asan build).
STATIC    ?= 1
ifeq ($(STATIC),1)
SKUA_LIBS  = -static -l:libseccomp.a -l:libyajl_s.a -l:libcap.a -l:libprotobuf-c.a -pthread
else
SKUA_LIBS  = $(PKG_LIBS)
endif

LIB_SRCS  := $(wildcard libcontainer/base/*.c libcontainer/oci/*.c \
               libcontainer/cgroups/*.c libcontainer/runtime/*.c \
               libcontainer/cr/*.c libcontainer/cr/arch/x86_64/*.c)
CLI_SRCS  := $(wildcard src/*.c)
PROTOS    := $(wildcard libcontainer/cr/proto/*.proto)
PROTO_C   := $(patsubst libcontainer/cr/proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PROTO_H   := $(PROTO_C:.c=.h)

LIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(PROTO_C:.c=.o)
CLI_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
LIBSKUA   := $(BUILD)/libskua.a

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
WL_SRCS   := $(wildcard tests/workloads/*.c)
WL_BINS   := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WL_SRCS))

.PHONY: all deps deps-bench asan check unit integration demo bench fuzz clean workloads rootfs

all: deps skua

# Install the Debian packages that are missing (apt-get update once, first).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

deps-bench: deps
	@missing=""; for p in $(BENCH_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: libcontainer/cr/proto/%.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=libcontainer/cr/proto --c_out=$(BUILD)/proto $<

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(CC) $(CFLAGS) -Wno-error $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBSKUA): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

skua: $(CLI_OBJS) $(LIBSKUA)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(LIBSKUA) $(SKUA_LIBS) $(LDFLAGS)

# AddressSanitizer + UBSan build; the integration suite runs it with SKUA=./skua-asan.
asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" STATIC=0 skua
	mv skua skua-asan
	$(MAKE) skua

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h tests/unit/child-sync.h $(LIBSKUA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIBSKUA) $(PKG_LIBS)

# Workloads run inside containers whose rootfs is busybox only: link them statically.
$(BUILD)/workloads/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread -o $@ $<

workloads: $(WL_BINS)

rootfs: deps
	contrib/make-rootfs.sh $(BUILD)/rootfs

unit: deps $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

integration: deps skua workloads rootfs
	@tests/run-integration.sh

check: deps skua $(UNIT_BINS) workloads rootfs
	@tests/run-all.sh

demo: deps skua workloads rootfs
	@contrib/demo.sh

bench: deps-bench skua workloads rootfs
	@tests/bench/run.sh

fuzz: deps
	tests/fuzz/build-and-run.sh

clean:
	rm -rf build build-asan build-fuzz skua skua-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
