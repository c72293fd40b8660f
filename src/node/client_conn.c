/* Closing a client connection (client_conn.h), for client.c and client_stream.c. */
#include "client_conn.h"

#include <stdlib.h>

static void on_client_closed(uv_handle_t *h)
{
    client *c = h->data;
    free(c->body);
    free(c->pend);
    if (c->follow) output_follow_close(c->follow);
    free(c->follow);
    free(c->frames);
    free(c);
}

void client_close(client *c)
{
    if (c->closing) return;
    client_port *cp = c->cp;
    c->closing = 1;
    if (c->prev) c->prev->next = c->next;
    else cp->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    cp->count--;
    if (c->subscriber) cp->subscribers--;
    if (c->refusing) cp->refusing--;
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

