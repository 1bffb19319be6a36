/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Established TCP connections across checkpoint/restore with TCP_REPAIR.
 *
 * Dump (tcp-repair.c): the engine holds the task's socket (pidfd_getfd) and
 * puts it in repair mode, which lets it read the sequence numbers, both
 * queues, the negotiated options and the window from outside. The socket
 * stays in repair mode while the tree is frozen; if the tree is then killed
 * it stays so, and its close sends neither FIN nor RST, so the peer (in the
 * tree or, in a container, in the same network namespace) notices nothing.
 *
 * Restore (tcp-restore.c): a socket made in the task's network namespace is
 * put in repair mode, given its sequence numbers, bound and "connected"
 * (no SYN in repair mode), given its options, queues and window, and only
 * when the whole tree is ready, just before its tasks run, are they all
 * taken out of repair together: a socket that left repair mode while its
 * peer in the tree did not exist yet would draw a RST from the peer's
 * stack, and a restore that fails before that closes them silently.
 *
 * Not covered: a peer outside the tree that sends while the tree is being
 * dumped or is not restored yet (in the same network namespace) meets a
 * closed port and gets a RST; CRIU blocks such packets with netfilter
 * rules for that time, which this engine does not do (yet). Peers in the
 * tree, or in a container's own network namespace, are frozen with it.
 */
#ifndef SKUA_CR_TCP_REPAIR_H
#define SKUA_CR_TCP_REPAIR_H

#include <stdbool.h>

#include "files.pb-c.h"

#define TCP_STATE_ESTABLISHED 1

struct dump_ctx;
struct fd_obj;
struct rst_ctx;

/* Fill ie->tcp (and the peer address) for the established socket sk (a copy
 * of the task's fd). The socket is left in repair mode and remembered in
 * ctx until tcp_repair_dump_end(). */
int tcp_repair_dump(struct dump_ctx *ctx, const struct fd_obj *f, int sk, InetSkEntry *ie);
/* At the end of the dump. killed: the tree is dead or dying, its sockets
 * stay in repair mode so that their close is silent. Otherwise (failed dump,
 * leave-running) they leave repair mode and the connections run on. */
void tcp_repair_dump_end(struct dump_ctx *ctx, bool killed);

/* Rebuild the connection ie on sk, a fresh socket of the right family made
 * in the task's network namespace. Consumes sk: returns it (still in repair
 * mode) or closes it and returns -errno. */
int tcp_repair_restore(int sk, const InetSkEntry *ie);
/* Take every restored connection of the tree out of repair mode and send
 * the data that had not been sent yet at dump (the last restore step). */
int tcp_repair_finish(struct rst_ctx *c);

#endif
