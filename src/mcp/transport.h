/* An MCP transport moves JSON-RPC 2.0 messages between the client
 * (client.c) and one MCP server: stdio (a child process, newline-delimited
 * JSON) or Streamable HTTP (one POST per message; the reply is JSON or an
 * SSE stream scoped to the request). The client owns the protocol (ids,
 * negotiation, pending requests); the transport only carries bytes and
 * delivers each arriving message to the client's callback.
 *
 * Delivery: every message the server sends (response, notification or
 * server->client request) is handed to on_message, exactly once, as a
 * parsed JSON object (ownership passes to the callback). A stdio transport calls it
 * from its reader thread; an HTTP transport calls it from inside send(),
 * before send() returns, for each message of the reply body.           */
#ifndef STRANDS_MCP_TRANSPORT_H
#define STRANDS_MCP_TRANSPORT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "strands/status.h"

typedef struct mcp_transport mcp_transport;

/* A message arrived: msg is a reference the callback takes over (it must
 * json_decref it; the transport does not touch it again, so the object
 * may move to another thread without shared reference counting). HTTP:
 * must not call back into send; stdio: may.                           */
typedef void mcp_on_message_fn(void *user, json_t *msg);
/* The connection is gone for good (stdio: the child exited or closed its
 * stdout; `why` says how, e.g. "exited with status 1"). Called at most
 * once per open, from the reader thread; never for HTTP.               */
typedef void mcp_on_closed_fn(void *user, const char *why);

/* One message to send. Everything borrowed for the call. */
typedef struct mcp_send_info {
    const char *json;            /* one serialised JSON-RPC message */
    size_t len;
    const char *method;          /* its "method" (Mcp-Method header) */
    const char *name;            /* params.name / params.uri for tools/call,
                                    resources/read, prompts/get (Mcp-Name
                                    header, modern HTTP only); else NULL */
    const char *const *extra_headers; /* more "Name: value" lines
                                    (modern Mcp-Param-*; forwarded caller
                                    headers in both eras), may be NULL */
    size_t n_extra;
    int is_request;              /* 1: a request (a reply is expected);
                                    0: a notification or a response */
    const atomic_int *cancelled; /* non-zero: give up (E_CANCELLED) */
    int64_t deadline_ms;         /* strands_clock_mono_ms() bound; 0 none */
} mcp_send_info;

typedef struct mcp_transport_vtab {
    const char *kind;            /* "stdio", "http" */
    /* Connects (stdio: spawns the child and starts its reader and stderr
     * threads). E_IO / E_NETWORK / E_TIMEOUT with a message naming the
     * command or URL. After close(), open() may be called again (restart). */
    strands_status (*open)(mcp_transport *t, int64_t deadline_ms,
                           strands_error *err);
    /* Sends one message. stdio: writes it (plus '\n') to the child's
     * stdin and returns; replies come later through on_message. HTTP: the
     * POST; every message of the reply is delivered through on_message
     * before it returns (a 202 or empty body delivers none). Errors:
     * E_CANCELLED, E_TIMEOUT, E_IO (stdio pipe closed), E_NETWORK;
     * HTTP: a 404 while a session id is held: E_NOT_FOUND with code
     * "McpSessionExpired" (the id is dropped; the client initializes
     * again); any other non-2xx status whose body is not a JSON-RPC error
     * message: E_UPSTREAM with err->http_status set; a non-2xx status
     * whose body IS a JSON-RPC message delivers it through on_message and
     * returns OK.                                                      */
    strands_status (*send)(mcp_transport *t, const mcp_send_info *info,
                           strands_error *err);
    /* Closes the connection: stdio terminates the child's process group
     * (SIGTERM, then SIGKILL after a grace), reaps it and joins the
     * threads; HTTP forgets its session (a DELETE is sent when one was
     * held, best effort). Idempotent; on_closed is NOT called for it.  */
    void (*close)(mcp_transport *t);
    /* Closes and frees. NULL is a no-op at the call site. */
    void (*destroy)(mcp_transport *t);
} mcp_transport_vtab;

/* The common head of every transport (implementations embed it first). */
struct mcp_transport {
    const mcp_transport_vtab *vt;
    mcp_on_message_fn *on_message;
    mcp_on_closed_fn *on_closed;
    void *cb_user;
    /* Set by the client after negotiation, read by the HTTP transport for
     * the MCP-Protocol-Version header ("" before negotiation).          */
    char protocol_version[16];
    int modern;                  /* 1: the 2026-07-28 (stateless) era */
};

/* ---- stdio (stdio.c) --------------------------------------------------- */

typedef struct mcp_stdio_opts {
    const char *server_name;     /* for log lines */
    const char *command;         /* looked up on PATH when it has no '/' */
    const char *const *args;     /* NULL-terminated or NULL */
    /* "KEY=value" entries merged over the minimal environment (PATH,
     * HOME, LANG, TERM, USER, SHELL, TMPDIR from ours); may be NULL. */
    const char *const *env;
    size_t n_env;
    const char *cwd;             /* NULL: ours */
    size_t max_message_bytes;    /* longest line accepted; 0: 16 MiB */
} mcp_stdio_opts;

/** A stdio transport (not yet open); options are copied. NULL + err on
 * E_NOMEM / E_INVALID. Free with t->vt->destroy(t).                    */
mcp_transport *mcp_stdio_new(const mcp_stdio_opts *o, strands_error *err);

/* ---- Streamable HTTP (http.c) ------------------------------------------ */

typedef struct mcp_auth mcp_auth;
typedef struct http_client http_client;

typedef struct mcp_http_opts {
    const char *server_name;     /* for messages */
    const char *url;             /* the MCP endpoint */
    const char *const *headers;  /* static "Name: value" lines, already
                                    ${VAR}-expanded; may be NULL */
    size_t n_headers;
    mcp_auth *auth;              /* borrowed (outlives the transport);
                                    NULL: none */
    http_client *http;           /* borrowed shared client */
    long connect_timeout_ms;     /* 0: 10 s */
    size_t max_message_bytes;    /* body / SSE event cap; 0: 16 MiB */
} mcp_http_opts;

/** A Streamable HTTP transport; options copied (auth, http borrowed).
 * NULL + err on E_NOMEM / E_INVALID (bad URL: not http(s)).           */
mcp_transport *mcp_http_new(const mcp_http_opts *o, strands_error *err);

/** The Mcp-Param-* header lines that a modern-HTTP tools/call must carry
 * for `tool_schema` (the tool's inputSchema, borrowed) and `arguments`:
 * one "Mcp-Param-<Name>: <value>" line per x-mcp-header annotation whose
 * value is present, Base64-sentinel encoded where needed. *lines_out: a
 * new NULL-terminated array of new strings (free with
 * mcp_header_lines_free); *n_out its length.                          */
strands_status mcp_http_param_headers(const json_t *tool_schema,
                                       const json_t *arguments,
                                       char ***lines_out, size_t *n_out,
                                       strands_error *err);
/** Checks a tool's x-mcp-header annotations (the 2026-07-28 rules):
 * E_INVALID with the reason when one is invalid (the tool must then be
 * left out of the list), OK when valid or none.                       */
strands_status mcp_http_check_param_annotations(const json_t *tool_schema,
                                                strands_error *err);
/** Frees a header-line array from mcp_http_param_headers (NULL ok). */
void mcp_header_lines_free(char **lines);

#endif
