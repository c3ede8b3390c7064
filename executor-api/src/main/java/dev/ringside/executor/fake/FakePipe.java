package dev.ringside.executor.fake;

import dev.ringside.executor.IoSource;

/**
 * An in-memory pipe of a {@link FakeReactor}: bytes written to {@link #writeEnd()} are read from
 * {@link #readEnd()} in order. A read waits while the pipe is empty and returns 0 (end of file) once
 * the write end is closed and the pipe drained; a write waits while the pipe is full, transfers what
 * fits (a short write), and fails with {@code EPIPE} once the read end is closed. Offsets other than
 * {@link IoSource#CURRENT_POSITION} fail with {@code ESPIPE}, as on a real pipe.
 *
 * @param readEnd  the end to read from
 * @param writeEnd the end to write to
 */
public record FakePipe(IoSource readEnd, IoSource writeEnd) implements AutoCloseable {
    /** Closes both ends. */
    @Override
    public void close() {
        readEnd.close();
        writeEnd.close();
    }
}
