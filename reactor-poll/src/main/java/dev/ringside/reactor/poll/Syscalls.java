package dev.ringside.reactor.poll;

import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;

/**
 * The system calls the epoll reactor needs beyond {@link LibC}'s named bindings, made through
 * {@link LibC#syscall} so that they depend on the kernel only (not on the C library's version) and so
 * that this module binds no native function itself. Every method returns the kernel's result or
 * {@code -errno}. Pointer arguments are raw addresses: the caller keeps their memory alive for the
 * call. Stateless; any thread.
 */
final class Syscalls {
    private Syscalls() {}

    // x86_64 has its own table; aarch64 uses the generic one. epoll_pwait2 is 441 in both.
    private static final long SYS_PREADV2 = Linux.AARCH64 ? 286 : 327;
    private static final long SYS_PWRITEV2 = Linux.AARCH64 ? 287 : 328;
    private static final long SYS_RECVMSG = Linux.AARCH64 ? 212 : 47;
    private static final long SYS_SENDMSG = Linux.AARCH64 ? 211 : 46;
    private static final long SYS_RECVFROM = Linux.AARCH64 ? 207 : 45;
    private static final long SYS_SENDTO = Linux.AARCH64 ? 206 : 44;
    private static final long SYS_EPOLL_PWAIT2 = 441;
    private static final long SYS_READ = Linux.AARCH64 ? 63 : 0;
    private static final long SYS_WRITE = Linux.AARCH64 ? 64 : 1;
    private static final long SYS_READV = Linux.AARCH64 ? 65 : 19;
    private static final long SYS_WRITEV = Linux.AARCH64 ? 66 : 20;

    /** {@code struct msghdr}: 56 bytes on LP64; {@code msg_iov} at 16, {@code msg_iovlen} at 24. */
    static final long MSGHDR_SIZE = 56, MSGHDR_IOV = 16, MSGHDR_IOVLEN = 24;

    /**
     * {@code preadv2(fd, iov, count, offset, flags)}; offset -1 reads at the current position. The raw
     * call takes the offset as two halves; on LP64 the low half is the whole offset.
     */
    static long preadv2(int fd, long iov, int count, long offset, int flags) {
        return LibC.syscall(SYS_PREADV2, fd, iov, count, offset, 0, flags);
    }

    /** {@code pwritev2(fd, iov, count, offset, flags)}; see {@link #preadv2}. */
    static long pwritev2(int fd, long iov, int count, long offset, int flags) {
        return LibC.syscall(SYS_PWRITEV2, fd, iov, count, offset, 0, flags);
    }

    /** {@code read(fd, buf, length)} into memory at address {@code buf}. */
    static long read(int fd, long buf, long length) {
        return LibC.syscall(SYS_READ, fd, buf, length, 0, 0, 0);
    }

    /** {@code write(fd, buf, length)} from memory at address {@code buf}. */
    static long write(int fd, long buf, long length) {
        return LibC.syscall(SYS_WRITE, fd, buf, length, 0, 0, 0);
    }

    /** {@code readv(fd, iov, count)}. */
    static long readv(int fd, long iov, int count) {
        return LibC.syscall(SYS_READV, fd, iov, count, 0, 0, 0);
    }

    /** {@code writev(fd, iov, count)}. */
    static long writev(int fd, long iov, int count) {
        return LibC.syscall(SYS_WRITEV, fd, iov, count, 0, 0, 0);
    }

    static long recvmsg(int fd, long msghdr, int flags) {
        return LibC.syscall(SYS_RECVMSG, fd, msghdr, flags, 0, 0, 0);
    }

    static long sendmsg(int fd, long msghdr, int flags) {
        return LibC.syscall(SYS_SENDMSG, fd, msghdr, flags, 0, 0, 0);
    }

    /**
     * {@code recvfrom(fd, buf, length, flags, NULL, NULL)}: {@code recv(2)} into one buffer. It takes the
     * operation's buffer by address, as the reactor has it ({@link LibC#recv} takes a segment, which
     * would be one more object per call).
     */
    static long recv(int fd, long buf, long length, int flags) {
        return LibC.syscall(SYS_RECVFROM, fd, buf, length, flags, 0, 0);
    }

    /** {@code sendto(fd, buf, length, flags, NULL, 0)}: {@code send(2)} from one buffer; see {@link #recv}. */
    static long send(int fd, long buf, long length, int flags) {
        return LibC.syscall(SYS_SENDTO, fd, buf, length, flags, 0, 0);
    }

    /**
     * {@code epoll_pwait2(epfd, events, maxEvents, timeout, NULL)}: {@code timeout} is the address of a
     * {@code struct timespec}, or 0 to wait without a time limit. {@code -ENOSYS} before Linux 5.11.
     */
    static int epollPwait2(int epfd, long events, int maxEvents, long timeout) {
        return (int) LibC.syscall(SYS_EPOLL_PWAIT2, epfd, events, maxEvents, timeout, 0, 8);
    }
}
