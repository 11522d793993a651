/* `strands-runtime --healthcheck`: GET /ping on 127.0.0.1:PORT with a hard
 * deadline, using plain sockets (no curl, no TLS set-up), so a container
 * HEALTHCHECK needs nothing else in the image.                          */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "strands/clock.h"
#include "strands/runtime.h"

/* Waits for fd to become ready for `events` until the deadline. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - strands_clock_mono_ms();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return -1;
    }
}

int strands_healthcheck(int port, int timeout_ms, char *why, size_t whysz)
{
    int64_t deadline = strands_clock_mono_ms() + timeout_ms;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return 1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = 1;
    char buf[512];
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 &&
        errno != EINPROGRESS) {
        snprintf(why, whysz, "cannot connect to 127.0.0.1:%d: %s", port,
                 strerror(errno));
        goto out;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (wait_fd(fd, POLLOUT, deadline) ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
        snprintf(why, whysz, "cannot connect to 127.0.0.1:%d: %s", port,
                 soerr ? strerror(soerr) : "timed out");
        goto out;
    }
    static const char req[] =
        "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) {
        snprintf(why, whysz, "cannot send the request");
        goto out;
    }
    while (got < sizeof buf - 1) {
        if (wait_fd(fd, POLLIN, deadline)) {
            snprintf(why, whysz, "no answer within %d ms", timeout_ms);
            goto out;
        }
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (strncmp(buf, "HTTP/1.1 200", 12) && strncmp(buf, "HTTP/1.0 200", 12)) {
        snprintf(why, whysz, "/ping did not answer 200");
        goto out;
    }
    if (!strstr(buf, "\"status\":\"Healthy\"") &&
        !strstr(buf, "\"status\":\"HealthyBusy\"")) {
        snprintf(why, whysz, "/ping answered 200 without a healthy status");
        goto out;
    }
    snprintf(why, whysz, "healthy");
    rc = 0;
out:
    close(fd);
    return rc;
}
