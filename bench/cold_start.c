/* Cold-start probe: spawns a command and measures the time from exec to
 * the first "HTTP/1.1 200" answer to GET /ping on 127.0.0.1:PORT, polling
 * every 50 us (bounded by a 10 s limit). Prints milliseconds.
 *   cold_start PORT command [args...]                                   */
#include <arpa/inet.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int ping(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        static const char req[] =
            "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char buf[16] = {0};
        if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) &&
            read(fd, buf, 12) == 12)
            ok = !memcmp(buf, "HTTP/1.1 200", 12);
    }
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cold_start PORT command [args...]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    pid_t pid;
    double t0 = now_ms();
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) {
        perror("posix_spawn");
        return 1;
    }
    double took = -1;
    while (now_ms() - t0 < 10000) {
        if (ping(port)) {
            took = now_ms() - t0;
            break;
        }
        usleep(50);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (took < 0) {
        fprintf(stderr, "no 200 from /ping within 10 s\n");
        return 1;
    }
    printf("%.3f\n", took);
    return 0;
}
