/* Tests for src/models/openai.c without a server: what openai_model_new
 * accepts and refuses (model id, base URL, the API key over plain http,
 * MODEL_PARAMS, a key with a line break), and calls that fail before any
 * answer (connection refused after the retries, a cancelled call).     */
#include <stdatomic.h>
#include <string.h>

#include "models/openai.h"
#include "test.h"

static strands_model *make(const char *base, const char *key,
                           const char *params, strands_error *err)
{
    openai_config c = {.model_id = "m", .base_url = base, .api_key = key,
                       .stream = 1, .params_json = params,
                       .max_attempts = 2, .base_delay_ms = 1,
                       .connect_timeout_ms = 2000, .read_timeout_ms = 2000};
    return openai_model_new(&c, err);
}

static void test_new_checks(void)
{
    strands_error err;
    strands_model *m;
    openai_config none = {.model_id = "", .base_url = "https://x/v1"};
    CHECK(openai_model_new(&none, &err) == NULL);
    CHECK(strstr(err.message, "MODEL_ID") != NULL);
    CHECK(make("http://10.0.0.5:8000/v1", "sk-1", NULL, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "clear text") != NULL);
    CHECK(strstr(err.message, "sk-1") == NULL);
    CHECK((m = make("http://10.0.0.5:8000/v1", NULL, NULL, &err)) != NULL);
    strands_model_free(m);
    CHECK((m = make("http://127.0.0.1:11434/v1/", "sk-1", NULL, &err)) !=
          NULL);
    strands_model_free(m);
    CHECK((m = make("https://api.openai.com/v1", "sk-1",
                    "{\"temperature\":0}", &err)) != NULL);
    CHECK_STR(m->vtab->name, "openai");
    strands_model_free(m);
    CHECK(make("https://h/v1", NULL, "{\"messages\":[]}", &err) == NULL);
    CHECK(strstr(err.message, "MODEL_PARAMS") != NULL);
    CHECK(make("https://h/v1", NULL, "{nope", &err) == NULL);
    CHECK(strstr(err.message, "MODEL_PARAMS") != NULL);
    CHECK(make("https://h/v1", "sk\r\nX-Evil: 1", NULL, &err) == NULL);
    CHECK(strstr(err.message, "line break") != NULL);
    CHECK(make("ftp://h/v1", NULL, NULL, &err) == NULL);
    CHECK(strstr(err.message, "OPENAI_BASE_URL") != NULL);
    CHECK_INT(openai_base_url_check("https://h:0/v1", &err),
              STRANDS_E_INVALID);
    CHECK(strncmp(err.message, "URL", 3) != 0);
    CHECK_INT(openai_base_url_check("http://lan-box:8000/v1", &err),
              STRANDS_OK);
}

static void test_calls_without_server(void)
{
    strands_error err;
    strands_model *m = make("http://127.0.0.1:1/v1", NULL, NULL, &err);
    CHECK(m != NULL);
    if (!m) return;
    json_t *msgs = json_loads("[{\"role\":\"user\",\"content\":[{\"text\":"
                              "\"hi\"}]}]", 0, NULL);
    strands_model_request req = {.messages = msgs, .max_tokens = 10};
    strands_model_response out;
    CHECK_INT(strands_model_converse(m, &req, &out, &err),
              STRANDS_E_NETWORK);
    CHECK(out.message == NULL);
    atomic_int cancel = 1;
    req.cancelled = &cancel;
    CHECK_INT(strands_model_converse(m, &req, &out, &err),
              STRANDS_E_CANCELLED);
    json_decref(msgs);
    strands_model_free(m);
}

int main(void)
{
    RUN(test_new_checks);
    RUN(test_calls_without_server);
    return test_report();
}
