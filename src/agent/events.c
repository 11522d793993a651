/* Serialized event delivery to an invocation's sinks. */
#include "agent/internal.h"

void agent_emit(agent_run *run, strands_event *ev)
{
    const strands_invocation *inv = run->inv;
    if (!inv->n_sinks) return;
    pthread_mutex_lock(&run->event_lock);
    ev->session_id = inv->session_id;
    ev->invocation_id = inv->invocation_id;
    ev->cycle = run->cycle;
    for (size_t i = 0; i < inv->n_sinks; i++)
        if (inv->sinks[i].fn) inv->sinks[i].fn(inv->sinks[i].user, ev);
    pthread_mutex_unlock(&run->event_lock);
}
