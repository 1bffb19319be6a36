/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_VMA_H
#define SKUA_CR_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"

#define VDSO_DIGEST_LEN 32 /* SHA-256 */

/* The address space of pid from /proc/PID/smaps, classified (vvar and
 * vsyscall included: restore needs to know where they were). A mapping we
 * cannot restore (a deleted file, a device's PFN map) is refused by name. */
int vma_parse_smaps(pid_t pid, VmaEntry ***ret, size_t *ret_n);
/* The same in two steps: the text of /proc/PID/smaps (which: "smaps"; or
 * "maps", without the page walk), then its parse (which cuts text into
 * lines). */
int vma_read_maps(pid_t pid, const char *which, char **ret);
int vma_parse_smaps_text(pid_t pid, char *text, VmaEntry ***ret, size_t *ret_n);
/* Whether two texts of smaps or maps describe the same mappings: the same
 * maps lines in the same order and, with flags, the same VmFlags (Rss and the
 * other statistics are ignored). */
bool vma_same_mappings(const char *a, const char *b, bool flags);
/* A digest of vDSO text: the build's identity. Restore computes it over its
 * own [vdso] the same way and refuses a mismatch. */
void vma_vdso_digest(const void *text, size_t len, uint8_t out[VDSO_DIGEST_LEN]);

#endif
