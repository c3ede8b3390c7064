/*
 * Cross-thread wake latency in C, the baseline of WakeLatencyBenchmark: two threads ping-pong through
 * two eventfds, each thread blocking in epoll_wait on its own epoll instance until its eventfd is
 * readable, then reading it and writing the other thread's eventfd.
 *
 *   eventfd_pingpong SECONDS [WARMUP_SECONDS]
 *
 * Every round trip (write the peer's eventfd ... own eventfd readable and read) is timed with
 * CLOCK_MONOTONIC; prints one line:
 *   eventfd_pingpong n=<round trips> mean_ns=<mean> p50_ns=<p50> p99_ns=<p99> p999_ns=<p99.9>
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int ping_fd, pong_fd; /* main -> echo, echo -> main */
static volatile int stop;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int epoll_for(int fd) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("epoll");
        exit(1);
    }
    return ep;
}

/* Blocks in epoll_wait until fd is readable, then reads it. */
static void await_fd(int ep, int fd) {
    struct epoll_event ev;
    uint64_t value;
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, -1);
        if (n == 1) {
            break;
        }
        if (n < 0) {
            perror("epoll_wait");
            exit(1);
        }
    }
    if (read(fd, &value, sizeof value) != sizeof value) {
        perror("read");
        exit(1);
    }
}

static void signal_fd(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) != sizeof one) {
        perror("write");
        exit(1);
    }
}

static void *echo(void *unused) {
    (void) unused;
    int ep = epoll_for(ping_fd);
    for (;;) {
        await_fd(ep, ping_fd);
        if (stop) {
            return NULL;
        }
        signal_fd(pong_fd);
    }
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: eventfd_pingpong SECONDS [WARMUP_SECONDS]\n");
        return 2;
    }
    double seconds = atof(argv[1]), warmup = argc > 2 ? atof(argv[2]) : 1.0;
    ping_fd = eventfd(0, EFD_CLOEXEC);
    pong_fd = eventfd(0, EFD_CLOEXEC);
    if (ping_fd < 0 || pong_fd < 0) {
        perror("eventfd");
        return 1;
    }
    int ep = epoll_for(pong_fd);
    pthread_t thread;
    if (pthread_create(&thread, NULL, echo, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    size_t capacity = 1 << 20, n = 0;
    uint64_t *samples = malloc(capacity * sizeof *samples);
    uint64_t start = now_ns(), warm_end = start + (uint64_t) (warmup * 1e9),
             end = warm_end + (uint64_t) (seconds * 1e9), t = start;
    while (t < end) {
        uint64_t t0 = now_ns();
        signal_fd(ping_fd);
        await_fd(ep, pong_fd);
        t = now_ns();
        if (t0 >= warm_end) {
            if (n == capacity) {
                capacity *= 2;
                samples = realloc(samples, capacity * sizeof *samples);
            }
            samples[n++] = t - t0;
        }
    }
    stop = 1;
    signal_fd(ping_fd);
    pthread_join(thread, NULL);
    if (n == 0) {
        fprintf(stderr, "eventfd_pingpong: no samples\n");
        return 1;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += samples[i];
    }
    qsort(samples, n, sizeof *samples, compare);
    printf("eventfd_pingpong n=%zu mean_ns=%.0f p50_ns=%llu p99_ns=%llu p999_ns=%llu\n", n, sum / n,
           (unsigned long long) samples[n / 2], (unsigned long long) samples[(size_t) (n * 0.99)],
           (unsigned long long) samples[(size_t) (n * 0.999)]);
    free(samples);
    return 0;
}
