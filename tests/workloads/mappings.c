// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mappings: an address-space layout with shapes a restore must rebuild: a
 * read-only page with content, a PROT_NONE guard between two writable areas,
 * a hole punched by munmap, an area moved by mremap, a read-only private
 * file mapping, and a MAP_NORESERVE reservation four times the size of the
 * machine's memory and swap with three pages written (a sanitizer's shadow,
 * a GC's heap). After SIGUSR1 the /proc/self/maps lines of these areas and
 * their contents are as they were, the guard's too (read after mprotect).
 * Under the kernel's heuristic overcommit a reservation that large is
 * refused without MAP_NORESERVE, so restore must map it again with it (from
 * the images, or by a retry for images that lack it): its VmFlags then say
 * "nr" again.
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include "zdtm.h"

#define PG 4096UL
#define N 16

static char *base, *resv;
static size_t resv_len;

/* The maps lines that cover [base, base + N pages), the moved area and
 * the reservation. */
static void snapshot(char *out, size_t len, const char *moved)
{
	char line[512];
	unsigned long s, e, lo = (unsigned long)base, hi = lo + N * PG;
	FILE *f = fopen("/proc/self/maps", "re");
	size_t used = 0;

	if (!f)
		zdtm_fail("maps: %s", strerror(errno));
	out[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if ((s < hi && e > lo) || s == (unsigned long)moved || s == (unsigned long)resv) {
			/* address, perms and offset only: inode columns may differ */
			char *cut = line;
			for (int sp = 0; *cut && sp < 3; cut++)
				sp += *cut == ' ';
			used += snprintf(out + used, len - used, "%.*s\n", (int)(cut - line), line);
		}
	}
	fclose(f);
}

static unsigned char pat(size_t i) { return (unsigned char)(i ^ (i >> 9)); }

/* Whether the VmFlags of the mapping that starts at addr name flag. */
static bool vm_flag(const void *addr, const char *flag)
{
	char line[512], want[32], pad[8];
	FILE *f = fopen("/proc/self/smaps", "re");
	bool in = false, found = false;

	if (!f)
		zdtm_fail("smaps: %s", strerror(errno));
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	snprintf(pad, sizeof(pad), " %s", flag);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in = true;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			found = strstr(line, pad) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Three pages of the reservation: its first, one in the middle, its last. */
static char *resv_page(int k)
{
	size_t pages = resv_len / PG;
	return resv + (k == 0 ? 0 : k == 1 ? pages / 2 : pages - 1) * PG;
}

static bool heuristic_overcommit(void)
{
	char buf[8] = "";
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return buf[0] == '0';
}

static void reserve(void)
{
	struct sysinfo si;

	zdtm_check(sysinfo(&si));
	resv_len = ((size_t)si.totalram + si.totalswap) * si.mem_unit * 4;
	resv_len = (resv_len + (1UL << 30) - 1) & ~((1UL << 30) - 1);
	resv = mmap(NULL, resv_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		zdtm_fail("mmap of a %zu GiB reservation: %s", resv_len >> 30, strerror(errno));
	for (int k = 0; k < 3; k++)
		memset(resv_page(k), 0x5a + k, PG);
	if (heuristic_overcommit() && !vm_flag(resv, "nr"))
		zdtm_fail("the reservation is not VM_NORESERVE before the checkpoint");
}

static void check_reserve(void)
{
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < PG; i++)
			if ((unsigned char)resv_page(k)[i] != 0x5a + k)
				zdtm_fail("reservation page %d byte %zu is 0x%x", k, i, (unsigned char)resv_page(k)[i]);
	if (heuristic_overcommit() && !vm_flag(resv, "nr"))
		zdtm_fail("the reservation came back without MAP_NORESERVE");
}

int main(void)
{
	char before[4096], after[4096], path[4096];
	unsigned char *ro_file;
	char *moved;
	int fd;

	zdtm_init("mappings");
	base = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		zdtm_fail("mmap: %s", strerror(errno));
	for (size_t i = 0; i < N * PG; i++)
		base[i] = pat(i);
	zdtm_check(mprotect(base, PG, PROT_READ));			/* page 0: read-only */
	zdtm_check(mprotect(base + 4 * PG, PG, PROT_NONE));		/* page 4: guard */
	zdtm_check(munmap(base + 8 * PG, 2 * PG));			/* pages 8-9: hole */
	moved = mremap(base + 12 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
		       base + 64 * PG + (unsigned long)getpid() % 16 * PG);
	if (moved == MAP_FAILED)
		zdtm_fail("mremap: %s", strerror(errno));
	zdtm_path(path, sizeof(path), "mappings.data");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	zdtm_check(fd);
	for (size_t i = 0; i < 2 * PG; i++)
		if (write(fd, &(unsigned char){ pat(i + 7) }, 1) != 1)
			zdtm_fail("write: %s", strerror(errno));
	ro_file = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (ro_file == MAP_FAILED)
		zdtm_fail("mmap file: %s", strerror(errno));
	close(fd);
	reserve();
	snapshot(before, sizeof(before), moved);
	zdtm_ready();
	zdtm_wait();

	snapshot(after, sizeof(after), moved);
	if (strcmp(before, after))
		zdtm_fail("layout changed:\n--- before\n%s--- after\n%s", before, after);
	for (size_t i = 0; i < N * PG; i++) {
		if (i / PG == 4 || i / PG == 8 || i / PG == 9)
			continue;
		const char *p = i / PG >= 12 ? moved + i - 12 * PG : base + i;
		if ((unsigned char)*p != pat(i))
			zdtm_fail("byte %zu of the layout is 0x%x, want 0x%x", i, (unsigned char)*p, pat(i));
	}
	/* the guard kept what was written before it became PROT_NONE */
	zdtm_check(mprotect(base + 4 * PG, PG, PROT_READ));
	for (size_t i = 4 * PG; i < 5 * PG; i++)
		if ((unsigned char)base[i] != pat(i))
			zdtm_fail("PROT_NONE page byte %zu is 0x%x, want 0x%x", i, (unsigned char)base[i], pat(i));
	for (size_t i = 0; i < 2 * PG; i++)
		if (ro_file[i] != pat(i + 7))
			zdtm_fail("file mapping byte %zu is 0x%x", i, ro_file[i]);
	check_reserve();
	unlink(path);
	zdtm_pass();
}
