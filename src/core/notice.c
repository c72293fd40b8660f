/* What a member reports about itself, as notices in the update (outbox.c) and counts in its
 * stats: a dropped message, a halt, a failed allocation. Every module reports through here,
 * so none calls back into the step API (member.c). */
#include <string.h>

#include "member.h"

void notice_drop(aleph_member *m, uint32_t peer, const char *reason)
{
    m->stats.messages_dropped++;
    aleph_notice n = {.kind = ALEPH_NOTICE_DROPPED,
                      .peer = peer,
                      .reason = reason,
                      .creator = NONE,
                      .round = NONE};
    outbox_notice(&m->out, &n);
}

void notice_halt(aleph_member *m, uint32_t round, uint32_t creator, uint32_t peer,
                 const uint8_t *hash, const char *reason)
{
    m->halted = 1;
    aleph_notice n = {.kind = ALEPH_NOTICE_HALT,
                      .round = round,
                      .creator = creator,
                      .peer = peer,
                      .reason = reason};
    if (hash) memcpy(n.hash, hash, 32);
    outbox_notice(&m->out, &n);
}

void notice_out_of_memory(aleph_member *m, const char *where)
{
    m->stats.out_of_memory++;
    aleph_notice n = {.kind = ALEPH_NOTICE_OUT_OF_MEMORY,
                      .peer = NONE,
                      .reason = where,
                      .creator = NONE,
                      .round = NONE};
    outbox_notice(&m->out, &n);
}
