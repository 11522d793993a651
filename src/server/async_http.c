/* The HTTP face of async invocations (POST /invocations): a body with
 * "async": true is answered 202 by async_submit, an "action" body by
 * async_get or async_cancel; every answer is JSON and carries the
 * invocation's session id header.                                       */
#include <stdio.h>
#include <string.h>

#include "server/async.h"

/* Async invocations belong to HTTP mode (srv->async is NULL otherwise). */
static enum MHD_Result no_async(handler_ctx *h)
{
    return server_send_error(h->conn, h->req, 400, "ValidationError",
                             "async invocations and their actions are "
                             "served with SERVER_PROTOCOL=HTTP only");
}

enum MHD_Result async_http_submit(handler_ctx *h, const runner_request *rq)
{
    if (!h->srv->async) return no_async(h);
    json_t *doc = NULL;
    int status = async_submit(h->srv->async, rq, &doc);
    return server_send_json(h->conn, h->req, status, doc,
                            SERVER_SESSION_HEADER, h->req->session_id, NULL);
}

enum MHD_Result async_http_action(handler_ctx *h, const request_parsed *p)
{
    if (!h->srv->async) return no_async(h);
    /* A session named by the body or the header must be the invocation's. */
    const char *session = p->session_id[0] ? p->session_id : NULL;
    json_t *doc = NULL;
    int status = p->action == REQUEST_ACTION_CANCEL_INVOCATION
                     ? async_cancel(h->srv->async, p->invocation_id, session,
                                    &doc)
                     : async_get(h->srv->async, p->invocation_id, session,
                                 &doc);
    /* The invocation's session, for the answer's header and the log. */
    const char *sid = json_string_value(json_object_get(doc, "session_id"));
    snprintf(h->req->session_id, sizeof h->req->session_id, "%s",
             sid ? sid : (session ? session : ""));
    return server_send_json(h->conn, h->req, status, doc,
                            SERVER_SESSION_HEADER,
                            h->req->session_id[0] ? h->req->session_id
                                                  : NULL,
                            NULL);
}
