/*
 * io_uring NOP round trips with liburing, the C baseline of NopBenchmark.
 *
 *   nop BATCH SECONDS [WARMUP_SECONDS [registered]]
 *
 * Repeats: prepare BATCH NOPs, io_uring_submit_and_wait(BATCH), reap all BATCH completions; for
 * WARMUP_SECONDS unmeasured, then for SECONDS measured. Prints one line:
 *   nop batch=<BATCH> ops_per_s=<rate> ns_per_op=<ns> submit_calls_per_op=<n> registered=<0|1>
 * The ring has 256 SQ entries, like ringside's default UringReactor. With "registered" the ring fd is
 * registered (io_uring_register_ring_fd), as ringside's loop thread does, so io_uring_enter skips the
 * descriptor lookup; without it, this is liburing's default.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs rounds of BATCH NOPs until SECONDS have passed; returns the NOPs done, *elapsed the time. */
static long run(struct io_uring *ring, unsigned batch, double seconds, double *elapsed, long *rounds_out) {
    double start = now(), end = start + seconds, t = start;
    long done = 0, rounds = 0;
    while (t < end) {
        for (int r = 0; r < 64; r++) { /* check the clock every 64 rounds */
            for (unsigned i = 0; i < batch; i++) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
                if (sqe == NULL) {
                    fprintf(stderr, "nop: SQ full\n");
                    exit(1);
                }
                io_uring_prep_nop(sqe);
                sqe->user_data = i;
            }
            int submitted = io_uring_submit_and_wait(ring, batch);
            if (submitted < 0) {
                fprintf(stderr, "nop: io_uring_submit_and_wait: %s\n", strerror(-submitted));
                exit(1);
            }
            unsigned reaped = 0;
            while (reaped < batch) {
                struct io_uring_cqe *cqe;
                unsigned head, seen = 0;
                io_uring_for_each_cqe(ring, head, cqe) {
                    if (cqe->res < 0) {
                        fprintf(stderr, "nop: cqe res %d\n", cqe->res);
                        exit(1);
                    }
                    seen++;
                }
                if (seen == 0) {
                    int ret = io_uring_wait_cqe(ring, &cqe);
                    if (ret < 0) {
                        fprintf(stderr, "nop: io_uring_wait_cqe: %s\n", strerror(-ret));
                        exit(1);
                    }
                    continue;
                }
                io_uring_cq_advance(ring, seen);
                reaped += seen;
            }
            done += batch;
            rounds++;
        }
        t = now();
    }
    *elapsed = t - start;
    *rounds_out = rounds;
    return done;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: nop BATCH SECONDS [WARMUP_SECONDS [registered]]\n");
        return 2;
    }
    unsigned batch = (unsigned) atoi(argv[1]);
    double seconds = atof(argv[2]);
    double warmup = argc > 3 ? atof(argv[3]) : 1.0;
    if (batch < 1 || batch > 256 || seconds <= 0) {
        fprintf(stderr, "nop: BATCH must be 1..256 and SECONDS positive\n");
        return 2;
    }
    struct io_uring ring;
    int ret = io_uring_queue_init(256, &ring, 0);
    if (ret < 0) {
        fprintf(stderr, "nop: io_uring_queue_init: %s\n", strerror(-ret));
        return 1;
    }
    int registered = 0;
    if (argc > 4 && strcmp(argv[4], "registered") == 0) {
        ret = io_uring_register_ring_fd(&ring);
        if (ret != 1) {
            fprintf(stderr, "nop: io_uring_register_ring_fd: %s\n", strerror(ret < 0 ? -ret : EINVAL));
            return 1;
        }
        registered = 1;
    }
    double elapsed;
    long rounds;
    if (warmup > 0) {
        run(&ring, batch, warmup, &elapsed, &rounds);
    }
    long done = run(&ring, batch, seconds, &elapsed, &rounds);
    printf("nop batch=%u ops_per_s=%.0f ns_per_op=%.2f submit_calls_per_op=%.4f registered=%d\n", batch,
           done / elapsed, elapsed * 1e9 / done, (double) rounds / done, registered);
    io_uring_queue_exit(&ring);
    return 0;
}
