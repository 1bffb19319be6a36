// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm: a 4 MiB MAP_SHARED|MAP_ANONYMOUS area and a 1 MiB MAP_SHARED file
 * mapping, both shared by the root and its child, half of each written by
 * each of them before the dump. After SIGUSR1 both halves are intact, the
 * child writes a new stamp into both areas and exits, and the root must see
 * the stamps (the memory is still one object for both) and read the file
 * mapping's stamp back from the file itself.
 */
#include <sys/mman.h>
#include "zdtm.h"

#define ANON_SIZE (4UL << 20)
#define FILE_SIZE (1UL << 20)
#define STAMP 0x5ca1ab1e0ddba11ULL

static unsigned char pat(size_t i, int who) { return (unsigned char)(i * 3 + who * 101); }

static void fill(unsigned char *m, size_t size, int who)
{
	for (size_t i = who * size / 2; i < (who + 1) * size / 2; i++)
		m[i] = pat(i, who);
}

static void check(const unsigned char *m, size_t size, const char *what)
{
	for (size_t i = 0; i < size; i++) {
		int who = i >= size / 2;

		if (m[i] != pat(i, who))
			zdtm_fail("%s byte %zu is 0x%x, want 0x%x", what, i, m[i], pat(i, who));
	}
}

int main(void)
{
	unsigned char *anon, *fmap;
	uint64_t *astamp, *fstamp, v = 0;
	char path[4096];
	pid_t kid;
	int fd;

	zdtm_init("shm");
	zdtm_path(path, sizeof(path), "shm.map");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	zdtm_check(fd);
	zdtm_check(ftruncate(fd, FILE_SIZE + 4096));
	anon = mmap(NULL, ANON_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fmap = mmap(NULL, FILE_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (anon == MAP_FAILED || fmap == MAP_FAILED)
		zdtm_fail("mmap: %s", strerror(errno));
	astamp = (uint64_t *)(anon + ANON_SIZE);
	fstamp = (uint64_t *)(fmap + FILE_SIZE);
	fill(anon, ANON_SIZE, 0);
	fill(fmap, FILE_SIZE, 0);
	kid = fork();
	zdtm_check(kid);
	if (kid == 0) {
		close(fd);
		fill(anon, ANON_SIZE, 1);
		fill(fmap, FILE_SIZE, 1);
		zdtm_wait();
		check(anon, ANON_SIZE, "child: shared anon");
		check(fmap, FILE_SIZE, "child: shared file");
		*astamp = STAMP;
		*fstamp = STAMP + 1;
		_exit(0);
	}
	/* the child's halves are there once it waits for SIGUSR1 */
	while (anon[ANON_SIZE - 1] != pat(ANON_SIZE - 1, 1) || fmap[FILE_SIZE - 1] != pat(FILE_SIZE - 1, 1))
		usleep(1000);
	usleep(10000);
	zdtm_ready();
	zdtm_wait();

	check(anon, ANON_SIZE, "shared anon");
	check(fmap, FILE_SIZE, "shared file");
	kill(kid, SIGUSR1);
	zdtm_reap(kid, "child");
	if (*astamp != STAMP)
		zdtm_fail("the child's write to the shared anon area is not seen: %llx",
			  (unsigned long long)*astamp);
	if (*fstamp != STAMP + 1)
		zdtm_fail("the child's write to the shared file mapping is not seen: %llx",
			  (unsigned long long)*fstamp);
	if (pread(fd, &v, sizeof(v), FILE_SIZE) != sizeof(v) || v != STAMP + 1)
		zdtm_fail("the file does not hold the mapping's stamp: %llx", (unsigned long long)v);
	unlink(path);
	zdtm_pass();
}
