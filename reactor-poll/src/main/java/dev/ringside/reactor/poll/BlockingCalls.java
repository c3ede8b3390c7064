package dev.ringside.reactor.poll;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringside.executor.IoOperation;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The blocking system call of an operation, as the reactor's pool runs it: {@code pread}/{@code preadv}
 * at an offset, {@code read}/{@code readv} at the current position (and the same for writes),
 * {@code fsync}, {@code fdatasync}, {@code fallocate}. {@code EINTR} is retried. A vectored call's iovec
 * array lives in a confined arena of the calling thread, freed when the call has returned; the buffers
 * are the operation's, held by it until it completes. Stateless; any thread.
 */
final class BlockingCalls {
    private BlockingCalls() {}

    /** The kernel's result, or {@code -errno}. */
    static long perform(IoOperation op) {
        long result;
        do {
            result = once(op);
        } while (result == -Errno.EINTR);
        return result;
    }

    private static long once(IoOperation op) {
        int fd = op.fd();
        return switch (op.kind()) {
            case READ, WRITE -> readWrite(op, fd, op.kind() == IoOperation.Kind.READ);
            case FSYNC -> LibC.fsync(fd);
            case FDATASYNC -> LibC.fdatasync(fd);
            case FALLOCATE -> LibC.fallocate(fd, op.fallocateMode(), op.offset(), op.length());
            case POLL_READABLE, POLL_WRITABLE, NOP -> throw new IllegalArgumentException("not a blocking call: " + op);
        };
    }

    private static long readWrite(IoOperation op, int fd, boolean read) {
        long offset = op.offset();
        boolean positioned = offset != IoSource.CURRENT_POSITION;
        if (op.bufferCount() == 1) {
            MemorySegment buffer = op.buffer(0);
            long size = buffer.byteSize();
            if (read) {
                return positioned ? LibC.pread(fd, buffer, size, offset) : LibC.read(fd, buffer, size);
            }
            return positioned ? LibC.pwrite(fd, buffer, size, offset) : LibC.write(fd, buffer, size);
        }
        int count = op.bufferCount();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(LibC.IOVEC, count);
            for (int i = 0; i < count; i++) {
                iov.set(JAVA_LONG, 16L * i, op.bufferAddress(i));
                iov.set(JAVA_LONG, 16L * i + 8, op.bufferLength(i));
            }
            if (read) {
                return positioned ? LibC.preadv(fd, iov, count, offset) : LibC.readv(fd, iov, count);
            }
            return positioned ? LibC.pwritev(fd, iov, count, offset) : LibC.writev(fd, iov, count);
        }
    }
}
