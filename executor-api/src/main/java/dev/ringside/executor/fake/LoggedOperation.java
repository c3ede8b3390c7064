package dev.ringside.executor.fake;

import dev.ringside.executor.IoOperation;

/**
 * One completed operation of a {@link FakeReactor}, as its operation log records it.
 *
 * @param sequence     1 for the first operation the reactor started, 2 for the second, ...
 * @param startedAt    the virtual time it started, in nanoseconds of {@link FakeReactor#nanoTime()}
 * @param completedAt  the virtual time it completed
 * @param kind         what it did
 * @param source       the source's label, e.g. {@code "pipe 3 read end"} or {@code "file 1"}
 * @param offset       the offset it was given ({@code -1}: the current position)
 * @param length       bytes requested (reads and writes) or range length (fallocate)
 * @param result       what it completed with: a byte count, 0, or {@code -errno}
 * @param cancelRequested whether its future was cancelled before it completed
 */
public record LoggedOperation(long sequence, long startedAt, long completedAt, IoOperation.Kind kind,
                              String source, long offset, long length, long result, boolean cancelRequested) {
}
