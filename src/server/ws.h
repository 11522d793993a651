/* WebSocket /ws: the connection layer and the interface a message
 * protocol plugs into. RFC 6455 framing is Debian's wslay (ping/pong,
 * fragmentation, UTF-8 checks of text, the close handshake, the message
 * size cap); the upgrade rides on libmicrohttpd's upgrade API, and each
 * connection runs on its libmicrohttpd connection thread (ws.c).
 *
 * A message protocol is a ws_app (a versioned table of callbacks): the
 * HTTP-mode one (ws_invoke.c: invocation bodies in, SSE-style event
 * objects out) and AG-UI's (ws_agui.c: RunAgentInput in, AG-UI events
 * out). ws.c picks the app for the server's
 * SERVER_PROTOCOL from one table; a new protocol is one row there.     */
#ifndef STRANDS_SERVER_WS_H
#define STRANDS_SERVER_WS_H

#include <stddef.h>

#include "server/internal.h"
#include "server/runner.h"
#include "strands/tool.h"

/* Close codes (RFC 6455 section 7.4.1). */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001       /* server shutting down */
#define WS_CLOSE_UNSUPPORTED 1003      /* binary or non-JSON message */
#define WS_CLOSE_POLICY 1008           /* client does not read its events */
#define WS_CLOSE_TOO_BIG 1009          /* message over WS_MAX_MESSAGE_BYTES */
#define WS_CLOSE_INTERNAL 1011         /* no handler, out of memory */
#define WS_CLOSE_TRY_AGAIN 1013        /* connection cap reached */
/* Longest close reason (RFC 6455 5.5: a control payload is at most 125
 * bytes, 2 of them the code).                                          */
#define WS_CLOSE_REASON_MAX 123

/* Live /ws connections at once; the upgrade is refused with 503 above. */
#define WS_MAX_CONNECTIONS 1024
/* Outgoing bytes queued on one connection (not yet taken by the socket);
 * a client that stops reading is closed with 1008 when it is exceeded.  */
#define WS_MAX_QUEUED_BYTES ((size_t)8 << 20)
/* After the server sends its close frame, how long it waits for the
 * client's before it drops the connection.                              */
#define WS_CLOSE_WAIT_MS 2000
/* A connection with no prompt running and nothing from the client for
 * this long is closed (1000 "idle timeout"), like an idle HTTP one.     */
#define WS_IDLE_TIMEOUT_MS (960 * 1000L)

typedef struct ws_conn ws_conn;

/* What an app gets when a connection opens. Everything in it is owned by
 * the connection and stays valid until the app's close returns.        */
typedef struct ws_open_info {
    strands_server *srv;        /* config (srv->cfg), runners, draining */
    const char *request_id;     /* the upgrade request's id */
    const char *session_id;     /* header or query parameter (validated),
                                   else a new UUID */
    int session_given;          /* 1 when the client named the session */
    const char *actor_id;       /* user-id header (validated), or NULL */
    const strands_request_context *request; /* headers for tools, or NULL */
    const char *traceparent;    /* trace headers of the upgrade, or NULL */
    const char *xray;
} ws_open_info;

#define WS_APP_VERSION 1

/* A message protocol on /ws. Every callback runs on the connection's
 * thread; none may block for long (start work on a thread of its own
 * and send from there with ws_conn_send_text).                        */
typedef struct ws_app {
    int version;                /* WS_APP_VERSION */
    const char *name;           /* for logs */
    /** The app's state for a new connection, or NULL (the connection is
     * then closed with 1011 and the reason logged from err).            */
    void *(*open)(ws_conn *c, const ws_open_info *info, strands_error *err);
    /** One complete client TEXT message (valid UTF-8, at most
     * WS_MAX_MESSAGE_BYTES; not NUL-terminated; borrowed for the call).
     * Binary messages never reach the app (closed with 1003).           */
    void (*message)(void *app, const char *text, size_t len);
    /** 1 while work is in flight: a draining server closes the connection
     * (1001) only once this is 0. Call ws_conn_wake when it drops.      */
    int (*busy)(void *app);
    /** The connection is ending (closed by either side, failed, or the
     * server stops): stop and join all work, then free the state. No
     * ws_conn_* call may follow.                                         */
    void (*close)(void *app);
} ws_app;

/** Queues one TEXT message (copied); thread-safe. 0 when queued; -1 when
 * the connection is closing or closed, out of memory (closed with 1011)
 * or over WS_MAX_QUEUED_BYTES (the client is not reading: closed with
 * 1008 and a log line). One message is always taken when nothing is
 * queued, so a message larger than the cap still goes out.              */
int ws_conn_send_text(ws_conn *c, const char *text, size_t len);
/** Closes the connection with code and reason (at most 123 bytes; may be
 * NULL); thread-safe; the first close wins, later ones are ignored.     */
void ws_conn_close(ws_conn *c, int code, const char *reason);
/** Wakes the connection's thread to re-check app busy (thread-safe). */
void ws_conn_wake(ws_conn *c);

/** The HTTP-mode app (ws_invoke.c): invocation bodies and cancel in,
 * the SSE event objects out.                                            */
extern const ws_app ws_invoke_app;
/** The AGUI-mode app (ws_agui.c): one RunAgentInput per message in, one
 * AG-UI event object per message out; bad input closes with 1003.      */
extern const ws_app ws_agui_app;
/** Copies reason into out (outsz >= 1; always NUL-terminated), cut to at
 * most WS_CLOSE_REASON_MAX and outsz - 1 bytes at a UTF-8 character
 * boundary, so the close frame stays valid UTF-8. Returns the length.  */
size_t ws_close_reason_cut(const char *reason, char *out, size_t outsz);

/* ---- one run at a time on a connection (ws_slot.c) ------------------ */

/* What both apps share: a connection runs one prompt (or AG-UI run) at a
 * time on a pump thread of its own, so the connection's thread keeps
 * reading (cancel, pings) meanwhile. The app keeps the run's input next
 * to the slot; the slot says when it may be written and when freed.
 * Every field is the slot's own: use the calls below.                  */
typedef struct ws_slot {
    ws_conn *c;
    const ws_open_info *info;      /* the connection's; outlives the slot */
    void (*done)(void *app);       /* frees the last run's input */
    void *app;
    pthread_mutex_t lock;
    pthread_t pump;
    int pump_joinable;             /* connection thread only */
    /* under lock */
    int running;                   /* a run is in flight */
    int cancelled;                 /* cancel asked for the running run */
    int closing;                   /* the connection is ending */
    runner *r;                     /* the running run's runner, or NULL */
} ws_slot;

typedef enum ws_claim {
    WS_CLAIM_OK = 0,     /* the slot is the caller's: write the input */
    WS_CLAIM_BUSY,       /* a run is in flight: answer SessionBusy */
    WS_CLAIM_DRAINING    /* the server is shutting down */
} ws_claim;

/** Sets up an idle slot for connection c. done(app) is called on the
 * connection's thread once a finished run's pump is joined (before the
 * next run's input is written, and at close): it frees that input.    */
void ws_slot_init(ws_slot *s, ws_conn *c, const ws_open_info *info,
                  void (*done)(void *app), void *app);
/** Claims the slot for a new run (connection thread). On WS_CLAIM_OK the
 * previous run's pump is joined and its input freed, so the caller may
 * write the new input and must then call ws_slot_start; otherwise
 * nothing changed and the caller answers with an error event.         */
ws_claim ws_slot_claim(ws_slot *s);
/** Starts pump(app) on its own thread for the claimed slot. 0 started;
 * -1 when no thread could be made: the slot is idle again and the
 * caller frees the input it wrote and answers ServiceUnavailable.     */
int ws_slot_start(ws_slot *s, void *(*pump)(void *app));
/** 1 when the connection is ending (the pump then starts nothing). */
int ws_slot_closing(ws_slot *s);
/** The pump's runner is r (borrowed until ws_slot_finish): a cancel or
 * close from now on cancels it, and one asked before does at once.    */
void ws_slot_attach(ws_slot *s, runner *r);
/** Asks the running run to stop (connection thread). 1 when a run was
 * in flight (it answers with its own last event); 0 when none was.   */
int ws_slot_cancel(ws_slot *s);
/** Ends the run (pump thread, last): releases r (may be NULL), then
 * queues the last events and makes the slot idle in one step, so a run
 * sent after the client read the last event is never refused as busy
 * and a draining connection closes only after it. docs and rc are as
 * ws_send_docs takes them; nothing is sent when docs is NULL and rc 0. */
void ws_slot_finish(ws_slot *s, runner *r, json_t *docs, int rc,
                    const char *oom_text);
/** 1 while a run is in flight (the app's busy callback). */
int ws_slot_busy(ws_slot *s);
/** The connection is ending: cancels the running run, joins its pump,
 * frees its input (done) and tears the slot down.                     */
void ws_slot_close(ws_slot *s);
/** Sends each element of docs (a JSON array, taken) as one text message.
 * When docs is NULL or rc != 0 (an encoder ran out of memory) or an
 * element cannot be written, oom_text goes out instead of the rest and
 * -1 is returned; -1 too when the connection no longer takes messages. */
int ws_send_docs(ws_conn *c, json_t *docs, int rc, const char *oom_text);
/** docs holding just doc (taken; NULL when out of memory), for
 * ws_send_docs and ws_slot_finish; *rc is -1 when it cannot be built.  */
json_t *ws_one_doc(json_t *doc, int *rc);

/* ---- the connection count (ws.c; pure, unit-tested) ------------------ */

struct ws_hub;
/** A hub admitting at most max_conns connections, or NULL on OOM. */
struct ws_hub *ws_hub_new(int max_conns);
/** Frees the hub (NULL is a no-op); no connection may be left. */
void ws_hub_free(struct ws_hub *h);
/** Connections open now. */
int ws_hub_count(struct ws_hub *h);
/** 1 when the hub is full (the upgrade is then refused). */
int ws_hub_full(struct ws_hub *h);
/** Counts c in (0), or -1 when the hub is full or draining (the caller
 * then closes c). A counted connection is woken by a drain.             */
int ws_hub_enter(struct ws_hub *h, ws_conn *c);
/** Counts c out (a no-op when it was not in). */
void ws_hub_leave(struct ws_hub *h, ws_conn *c);
/** Marks the hub draining (no connection enters any more) and wakes every
 * connection in it, which then closes with 1001 once its app is idle.   */
void ws_hub_drain(struct ws_hub *h);
/** 1 once ws_hub_drain was called. */
int ws_hub_draining(struct ws_hub *h);

/* ---- client messages of the HTTP-mode app (ws_message.c; pure) ------- */

typedef enum ws_msg_kind {
    WS_MSG_PROMPT = 0,  /* an invocation body: *prompt filled */
    WS_MSG_CANCEL,      /* {"action":"cancel"} */
    WS_MSG_NOT_JSON,    /* not JSON at all: close 1003 */
    WS_MSG_INVALID,     /* JSON, but not a valid message: error event */
    WS_MSG_NOMEM        /* out of memory: error event InternalError */
} ws_msg_kind;

/** Reads one client message: {"action":"cancel"}, or an invocation body
 * exactly as POST /invocations takes it (request_parse: "prompt" string or
 * content blocks, "session_id" overriding conn_session; "stream" is
 * ignored: /ws always streams). On WS_MSG_PROMPT *prompt is filled (free
 * with request_parsed_cleanup); otherwise *prompt holds nothing and why
 * (whysz >= 1) holds the reason, NUL-terminated.                        */
ws_msg_kind ws_message_parse(const char *text, size_t len,
                             const char *conn_session,
                             request_parsed *prompt, char *why,
                             size_t whysz);

#endif
