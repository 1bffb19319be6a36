// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes a seed corpus for fuzz-image: one valid image of each kind (and a
 * stats file), each prefixed by the byte that makes the harness pick it, so
 * that the fuzzer starts from well-formed protobuf instead of noise. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd.h"
#include "cr/image.h"
#include "cr/stats.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static int dfd;
static const char *out;

/* corpus/seed-<pick>: the pick byte, then the file's bytes */
static void emit(unsigned pick, const char *name)
{
	char *buf = NULL, path[512];
	size_t len;
	if (read_file_at(dfd, name, &buf, &len, 0) < 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/seed-%u", out, pick);
	FILE *f = fopen(path, "w");
	if (!f || fputc(pick, f) == EOF || fwrite(buf, 1, len, f) != len || fclose(f))
		exit(1);
	free(buf);
}

static void write_msgs(enum cr_img_kind kind, const ProtobufCMessage *const *m, size_t n)
{
	struct cr_img *img;
	char name[64];
	if (img_open(dfd, kind, 1, O_WRONLY, &img) < 0)
		exit(1);
	for (size_t i = 0; i < n; i++)
		if (img_write_msg(img, m[i]) < 0)
			exit(1);
	if (img_close(img) < 0)
		exit(1);
	img_name(kind, 1, name, sizeof(name));
	emit(kind, name);
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/skua-seeds-XXXXXX";
	if (argc != 2 || !mkdtemp(tmp))
		return 1;
	out = argv[1];
	dfd = open(tmp, O_RDONLY | O_DIRECTORY);

	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.root_pid = 1;
	inv.kernel_release = "6.18";
	inv.has_xcr0 = 1;
	inv.xcr0 = 0xe7;
	write_msgs(CR_IMG_INVENTORY, (const ProtobufCMessage *[]){ &inv.base }, 1);

	PstreeEntry p = PSTREE_ENTRY__INIT;
	uint32_t tids[] = { 1, 2 };
	p.pid = 1;
	p.threads = tids;
	p.n_threads = 2;
	write_msgs(CR_IMG_PSTREE, (const ProtobufCMessage *[]){ &p.base, &p.base }, 2);

	X86RegsEntry regs = X86_REGS_ENTRY__INIT;
	regs.ip = 0x401000;
	uint8_t xs[64] = { 1, 2, 3 };
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	ThreadCoreEntry *ths[] = { &th };
	th.regs = &regs;
	th.xstate.data = xs;
	th.xstate.len = sizeof(xs);
	SigactionEntry sa = SIGACTION_ENTRY__INIT;
	SigactionEntry *sas[] = { &sa };
	sa.sig = 10;
	CredsEntry creds = CREDS_ENTRY__INIT;
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	core.comm = "seed";
	core.creds = &creds;
	core.threads = ths;
	core.n_threads = 1;
	core.sigactions = sas;
	core.n_sigactions = 1;
	write_msgs(CR_IMG_CORE, (const ProtobufCMessage *[]){ &core.base }, 1);

	VmaEntry v = VMA_ENTRY__INIT;
	VmaEntry *vs[] = { &v, &v };
	v.end = 0x1000;
	v.kind = VMA_KIND__VMA_FILE_PRIVATE;
	v.path = "/bin/sh";
	MmEntry mm = MM_ENTRY__INIT;
	mm.exe_file = "/bin/sh";
	mm.vmas = vs;
	mm.n_vmas = 2;
	write_msgs(CR_IMG_MM, (const ProtobufCMessage *[]){ &mm.base }, 1);

	PagemapHead ph = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	pe.vaddr = 0x1000;
	pe.nr_pages = 2;
	write_msgs(CR_IMG_PAGEMAP, (const ProtobufCMessage *[]){ &ph.base, &pe.base, &pe.base }, 3);

	struct cr_img *img;
	static char page[8192] = "pages";
	if (img_open(dfd, CR_IMG_PAGES, 1, O_WRONLY, &img) < 0 || img_write_raw(img, page, sizeof(page)) < 0 ||
	    img_close(img) < 0)
		return 1;
	emit(CR_IMG_PAGES, "pages-1.img");

	FileEntry f = FILE_ENTRY__INIT, g = FILE_ENTRY__INIT;
	PipeEntry pipe = PIPE_ENTRY__INIT;
	EpollEntry ep = EPOLL_ENTRY__INIT;
	EpollTfdEntry tfd = EPOLL_TFD_ENTRY__INIT;
	EpollTfdEntry *tfds[] = { &tfd };
	f.kind = FILE_KIND__FILE_PIPE;
	pipe.has_data = 1;
	pipe.data.data = (uint8_t *)"in flight";
	pipe.data.len = 9;
	f.pipe = &pipe;
	g.kind = FILE_KIND__FILE_EPOLL;
	ep.tfds = tfds;
	ep.n_tfds = 1;
	g.epoll = &ep;
	write_msgs(CR_IMG_FILES, (const ProtobufCMessage *[]){ &f.base, &g.base }, 2);

	FdEntry fd = FD_ENTRY__INIT;
	fd.fd = 1;
	write_msgs(CR_IMG_FDINFO, (const ProtobufCMessage *[]){ &fd.base, &fd.base }, 2);

	DumpStatsEntry ds = DUMP_STATS_ENTRY__INIT;
	ds.frozen_time = 100;
	if (stats_write_dump(tmp, &ds) < 0)
		return 1;
	emit(CR_IMG_KIND_COUNT, STATS_DUMP_FILE);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : 1;
}
