package dev.ringside.executor;

import dev.ringside.executor.linux.Errno;
import java.io.IOException;

/**
 * A system call or io_uring operation failed with an error number. The message names the call, the
 * symbol, the number and its description, e.g.
 * {@code read(fd 12) failed: EBADF (errno 9, Bad file descriptor)}.
 *
 * <p>{@link #call()} is a free-form description the caller builds (it may name the descriptor or path);
 * it is kept as given.
 */
public class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call what failed, e.g. {@code "read(fd 12)"}
     * @param errno the positive error number
     * @throws IllegalArgumentException if {@code errno} is not positive
     */
    public ErrnoException(String call, int errno) {
        super(message(call, errno));
        this.call = call;
        this.errno = errno;
    }

    private static String message(String call, int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + errno + " (call " + call + ")");
        }
        return call + " failed: " + Errno.symbol(errno) + " (errno " + errno + ", " + Errno.description(errno) + ")";
    }

    /** The call as the caller described it. */
    public String call() {
        return call;
    }

    /** The positive error number. */
    public int errno() {
        return errno;
    }

    /** The error's symbol, e.g. {@code "EBADF"} ({@code "E<n>"} for a number ringside does not know). */
    public String symbol() {
        return Errno.symbol(errno);
    }

    /**
     * Passes a kernel-style result through: returns {@code result} if it is not negative, else throws for
     * errno {@code -result}. {@code call} is only used on failure, but is built by the caller every time:
     * on a hot path, test {@code result < 0} first.
     *
     * @throws ErrnoException if {@code result} is negative
     */
    public static int check(String call, int result) throws ErrnoException {
        if (result < 0) {
            throw new ErrnoException(call, -result);
        }
        return result;
    }

    /** {@link #check(String, int)} for {@code long} results (byte counts, offsets, addresses). */
    public static long check(String call, long result) throws ErrnoException {
        if (result < 0) {
            throw new ErrnoException(call, (int) -result);
        }
        return result;
    }
}
