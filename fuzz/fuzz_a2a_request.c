/* libFuzzer target for the A2A request parser without HTTP
 * (src/server/a2a_rpc.c): the JSON-RPC envelope with an A2A-Version
 * header, then each method's params in the version the request resolved
 * to (SendMessage / message/send in both versions, GetTask / CancelTask,
 * ListTasks), and the encoders (a2a_json.c) over what was parsed.
 * Input: [A2A-Version bytes] NUL [body bytes]; without a NUL all bytes are
 * the body and there is no header. Both are copied into exact-size
 * buffers so AddressSanitizer catches any read past the end.
 * Checks the contracts: an error comes with a terminated, non-empty
 * reason and a JSON-RPC code; success gives params as an object and a
 * prompt with text; ids fit their caps; never crash, leak or read out of
 * bounds.                                                               */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/a2a.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_why(const char *why, size_t whysz)
{
    if (!memchr(why, '\0', whysz) || !why[0]) abort();
}

static void check_send(const json_t *params, a2a_version v)
{
    a2a_send s;
    char why[256];
    memset(why, 0xAA, sizeof why);
    int rc = a2a_send_parse(params, v, &s, why, sizeof why);
    if (rc) {
        check_why(why, sizeof why);
        if (rc != A2A_ERR_INVALID_PARAMS && rc != A2A_ERR_CONTENT_TYPE &&
            rc != A2A_ERR_INTERNAL)
            abort();
        return;
    }
    if (!s.text || !s.text[0] || !s.message_id[0]) abort();
    if (strlen(s.context_id) > SERVER_SESSION_ID_MAX) abort();
    if (strlen(s.task_id) > A2A_TASK_ID_MAX) abort();
    a2a_task_view t = {.id = "t", .context_id = s.context_id[0] ? s.context_id
                                                                 : "c",
                       .state = A2A_COMPLETED, .user_text = s.text,
                       .user_message_id = s.message_id, .answer = s.text,
                       .answer_len = strlen(s.text), .artifact_id = "a",
                       .reply_id = "r"};
    json_t *j = a2a_task_json(&t, v, s.history_length, 1);
    if (!j) abort();
    json_decref(j);
    a2a_send_cleanup(&s);
}

static void check_params(const a2a_rpc *r)
{
    char why[256], id[A2A_TASK_ID_MAX + 1];
    memset(why, 0xAA, sizeof why);
    switch (r->method) {
    case A2A_SEND:
    case A2A_STREAM:
        check_send(r->params, r->version);
        /* the other version's rules must hold up too */
        check_send(r->params, r->version == A2A_V10 ? A2A_V03 : A2A_V10);
        break;
    case A2A_GET:
    case A2A_CANCEL: {
        int hl = 0;
        if (a2a_task_params_parse(r->params, id, sizeof id, &hl, why,
                                  sizeof why))
            check_why(why, sizeof why);
        else if (!id[0] || strlen(id) > A2A_TASK_ID_MAX || hl < -1)
            abort();
        break;
    }
    case A2A_LIST: {
        a2a_list_query q;
        if (a2a_list_parse(r->params, &q, why, sizeof why))
            check_why(why, sizeof why);
        else if (q.page_size < 1 || q.page_size > A2A_PAGE_MAX)
            abort();
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    char *header = NULL;
    const uint8_t *body = data;
    size_t body_len = size;
    if (nul) {
        size_t hlen = (size_t)(nul - data);
        header = malloc(hlen + 1);
        if (!header) return 0;
        memcpy(header, data, hlen);
        header[hlen] = '\0';
        body = nul + 1;
        body_len = size - hlen - 1;
    }
    char *exact = malloc(body_len ? body_len : 1);
    if (!exact) {
        free(header);
        return 0;
    }
    if (body_len) memcpy(exact, body, body_len);
    a2a_rpc r;
    char why[256];
    memset(why, 0xAA, sizeof why);
    int rc = a2a_rpc_parse(exact, body_len, header, &r, why, sizeof why);
    if (!r.id) abort();
    if (rc) {
        check_why(why, sizeof why);
        if (rc > -32000 || rc < -32700) abort();
        json_t *e = a2a_error_response(r.id, rc, why, r.version);
        if (!e) abort();
        json_decref(e);
    } else {
        if (!json_is_object(r.params)) abort();
        check_params(&r);
    }
    a2a_rpc_cleanup(&r);
    free(exact);
    free(header);
    return 0;
}
