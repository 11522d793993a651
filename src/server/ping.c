/* GET /ping: {"status":"Healthy","time_of_last_update":<unix seconds>},
 * where the timestamp changes only when the status changes.            */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"
#include "strands/clock.h"

void ping_state_init(ping_state *p)
{
    pthread_mutex_init(&p->lock, NULL);
    p->status = "Healthy";
    p->last_update = strands_clock_wall();
}

void ping_state_cleanup(ping_state *p)
{
    pthread_mutex_destroy(&p->lock);
}

void ping_state_set(ping_state *p, const char *status)
{
    pthread_mutex_lock(&p->lock);
    if (strcmp(p->status, status)) {
        p->status = status;
        p->last_update = strands_clock_wall();
    }
    pthread_mutex_unlock(&p->lock);
}

enum MHD_Result ping_handle(handler_ctx *h)
{
    char body[96];
    pthread_mutex_lock(&h->ping->lock);
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"%s\",\"time_of_last_update\":%lld}",
                     h->ping->status, (long long)h->ping->last_update);
    pthread_mutex_unlock(&h->ping->lock);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        (size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(h->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    h->req->status = 200;
    return ret;
}
