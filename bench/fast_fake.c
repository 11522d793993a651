/* A minimal, fast stand-in for Bedrock Converse used only by the
 * benchmark: answers every POST with a fixed Converse response after
 * LATENCY_MS, a thread per connection, so the benchmark measures the
 * runtime rather than the Python fake (which verifies signatures and so
 * saturates one core near 2,000 req/s). Not a test fixture: it checks no
 * signature. Loopback only.
 *   fast_fake PORT LATENCY_MS                                          */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static long latency_ms;

static const char reply[] =
    "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
    "[{\"text\":\"echo: benchmark\"}]}},\"stopReason\":\"end_turn\","
    "\"usage\":{\"inputTokens\":13,\"outputTokens\":3,\"totalTokens\":16},"
    "\"metrics\":{\"latencyMs\":1}}";

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *size, void **state)
{
    (void)cls; (void)url; (void)method; (void)version; (void)data;
    if (!*state) {
        *state = c;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    if (latency_ms > 0) {
        struct timespec ts = {latency_ms / 1000, (latency_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof reply - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fast_fake PORT LATENCY_MS\n");
        return 2;
    }
    latency_ms = atol(argv[2]);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL,
        0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(128 * 1024), MHD_OPTION_END);
    if (!d) {
        perror("fast_fake: cannot listen");
        return 1;
    }
    printf("{\"port\": %s}\n", argv[1]);
    fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
