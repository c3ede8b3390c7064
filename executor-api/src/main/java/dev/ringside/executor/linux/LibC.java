package dev.ringside.executor.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library functions ringside calls, bound with the Foreign Function and Memory API.
 *
 * <p><b>Result convention.</b> Every binding returns the raw result on success and {@code -errno} on
 * failure (the kernel's own convention, so results from here and from io_uring completions are handled
 * alike). Failures never throw: turn a negative result into an exception with
 * {@link dev.ringside.executor.ErrnoException#check}. Only arguments that can never work throw, before
 * the call is made: {@link IllegalArgumentException} for a negative count or a buffer smaller than the
 * count, plus whatever the FFM runtime throws for a segment it cannot pass (a heap segment, a segment
 * whose arena is closed or belongs to another thread).
 *
 * <p><b>Memory.</b> Buffers are native {@link MemorySegment}s; the segment's scope is kept alive for the
 * duration of the call. Addresses inside structures (the {@code iov_base} of an {@link #IOVEC}) are not
 * checked: the caller vouches for them.
 *
 * <p><b>errno.</b> It is captured with {@code Linker.Option.captureCallState("errno")} into a small
 * segment owned by the calling thread (a {@link ThreadLocal}, allocated on the thread's first call and
 * freed with it), so a call allocates nothing. Only a failing call reads it.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. Calls that block in the kernel (a read
 * of an empty pipe, {@code epoll_wait}, {@code io_uring_enter} with a wait) block the calling thread,
 * pin a virtual thread to its carrier, and are not interrupted by {@link Thread#interrupt()}.
 *
 * <p><b>ABI.</b> LP64 Linux (x86_64 or aarch64, checked at class initialisation): {@code size_t},
 * {@code ssize_t}, {@code off_t} and {@code long} are 64-bit, {@code int} is 32-bit, and glibc's
 * {@code open}/{@code pread}/{@code lseek}/... are the 64-bit-offset variants.
 */
@SuppressWarnings("restricted") // binding native functions is this class's job
public final class LibC {
    private LibC() {}

    static {
        Linux.requireSupportedPlatform();
    }

    // ---- struct layouts -----------------------------------------------------------------------

    /** {@code struct iovec { void *iov_base; size_t iov_len; }}: 16 bytes. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len")).withName("iovec");

    /** {@code struct timespec { time_t tv_sec; long tv_nsec; }}: 16 bytes. */
    public static final StructLayout TIMESPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_nsec")).withName("timespec");

    /** {@code struct itimerspec { struct timespec it_interval, it_value; }}: 32 bytes. */
    public static final StructLayout ITIMERSPEC = MemoryLayout.structLayout(
            TIMESPEC.withName("it_interval"), TIMESPEC.withName("it_value")).withName("itimerspec");

    /**
     * {@code struct epoll_event { uint32_t events; epoll_data_t data; }}: packed on x86_64 (12 bytes,
     * {@code data} at offset 4), naturally aligned on aarch64 (16 bytes, {@code data} at offset 8).
     * Read {@code data} with {@link ValueLayout#JAVA_LONG_UNALIGNED} at {@link #EPOLL_EVENT_DATA_OFFSET}.
     */
    public static final StructLayout EPOLL_EVENT = Linux.AARCH64
            ? MemoryLayout.structLayout(JAVA_INT.withName("events"), MemoryLayout.paddingLayout(4),
                    JAVA_LONG.withName("data")).withName("epoll_event")
            : MemoryLayout.structLayout(JAVA_INT.withName("events"),
                    ValueLayout.JAVA_LONG_UNALIGNED.withName("data")).withName("epoll_event");

    /** Byte offset of {@code data} in {@link #EPOLL_EVENT}. */
    public static final long EPOLL_EVENT_DATA_OFFSET =
            EPOLL_EVENT.byteOffset(MemoryLayout.PathElement.groupElement("data"));

    // ---- errno capture ------------------------------------------------------------------------

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET =
            CALL_STATE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** One capture segment per thread; an automatic arena frees it once the thread is gone. */
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));

    // ---- bindings -----------------------------------------------------------------------------

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = bind("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = bind("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = bind("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = bind("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle READV = bind("readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WRITEV = bind("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PREADV = bind("preadv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITEV = bind("pwritev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCNTL = bind("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle PIPE2 = bind("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle TIMERFD_CREATE = bind("timerfd_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle TIMERFD_SETTIME = bind("timerfd_settime",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SOCKETPAIR = bind("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle RECV = bind("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SEND = bind("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SHUTDOWN = bind("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FSYNC = bind("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC = bind("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FALLOCATE = bind("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FTRUNCATE = bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle LSEEK = bind("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = bind("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = bind("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = bind("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    /** {@code long syscall(long number, ...)}: variadic after the number, every argument passed as a long. */
    private static final MethodHandle SYSCALL = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    /** getpid cannot fail, so it captures nothing. */
    private static final MethodHandle GETPID = LINKER.downcallHandle(symbol("getpid"), FunctionDescriptor.of(JAVA_INT));

    // ---- files --------------------------------------------------------------------------------

    /**
     * {@code open(2)}. {@code path} is a NUL-terminated string in native memory.
     *
     * @return the new descriptor, or {@code -errno}
     */
    public static int open(MemorySegment path, int flags, int mode) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) OPEN.invokeExact(state, path, flags, mode), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code open(2)} of a path given as a Java string, encoded as UTF-8 into memory that lives for the
     * call only.
     *
     * @return the new descriptor, or {@code -errno}
     * @throws IllegalArgumentException if {@code path} contains a NUL character (C would cut it there)
     */
    public static int open(String path, int flags, int mode) {
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path contains a NUL character: " + path.replace("\0", "\\0"));
        }
        try (Arena arena = Arena.ofConfined()) {
            return open(arena.allocateFrom(path), flags, mode);
        }
    }

    /**
     * {@code close(2)}. On Linux the number is released even when this reports an error (including
     * {@code EINTR}), so a failed close must never be retried.
     *
     * @return 0, or {@code -errno}
     */
    public static int close(int fd) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) CLOSE.invokeExact(state, fd), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code read(2)} of up to {@code count} bytes into {@code buffer}; returns the bytes read or {@code -errno}. */
    public static long read(int fd, MemorySegment buffer, long count) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) READ.invokeExact(state, fd, buffer, count), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code write(2)} of {@code count} bytes from {@code buffer}; returns the bytes written or {@code -errno}. */
    public static long write(int fd, MemorySegment buffer, long count) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) WRITE.invokeExact(state, fd, buffer, count), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code pread(2)} at file offset {@code offset}; returns the bytes read or {@code -errno}. */
    public static long pread(int fd, MemorySegment buffer, long count, long offset) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) PREAD.invokeExact(state, fd, buffer, count, offset), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code pwrite(2)} at file offset {@code offset}; returns the bytes written or {@code -errno}. */
    public static long pwrite(int fd, MemorySegment buffer, long count, long offset) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) PWRITE.invokeExact(state, fd, buffer, count, offset), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code readv(2)} into the buffers described by the first {@code iovcnt} {@link #IOVEC} entries of
     * {@code iovecs}; returns the bytes read or {@code -errno}.
     */
    public static long readv(int fd, MemorySegment iovecs, int iovcnt) {
        checkIovecs(iovecs, iovcnt);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) READV.invokeExact(state, fd, iovecs, iovcnt), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code writev(2)}; see {@link #readv}. Returns the bytes written or {@code -errno}. */
    public static long writev(int fd, MemorySegment iovecs, int iovcnt) {
        checkIovecs(iovecs, iovcnt);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) WRITEV.invokeExact(state, fd, iovecs, iovcnt), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code preadv(2)}: {@link #readv} at file offset {@code offset}. */
    public static long preadv(int fd, MemorySegment iovecs, int iovcnt, long offset) {
        checkIovecs(iovecs, iovcnt);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) PREADV.invokeExact(state, fd, iovecs, iovcnt, offset), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code pwritev(2)}: {@link #writev} at file offset {@code offset}. */
    public static long pwritev(int fd, MemorySegment iovecs, int iovcnt, long offset) {
        checkIovecs(iovecs, iovcnt);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) PWRITEV.invokeExact(state, fd, iovecs, iovcnt, offset), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code fcntl(2)}, bound as the variadic function it is; {@code arg} is passed as a C {@code long}
     * (ignored by commands that take none).
     *
     * @return the command's result, or {@code -errno}
     */
    public static int fcntl(int fd, int cmd, long arg) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) FCNTL.invokeExact(state, fd, cmd, arg), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code fcntl(fd, F_DUPFD_CLOEXEC, 0)}: the lowest free number, close-on-exec; or {@code -errno}. */
    public static int dupCloexec(int fd) {
        return fcntl(fd, Linux.F_DUPFD_CLOEXEC, 0);
    }

    /** {@code fsync(2)}; returns 0 or {@code -errno}. */
    public static int fsync(int fd) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) FSYNC.invokeExact(state, fd), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code fdatasync(2)}; returns 0 or {@code -errno}. */
    public static int fdatasync(int fd) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) FDATASYNC.invokeExact(state, fd), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code fallocate(2)} with {@code FALLOC_FL_*} {@code mode}; returns 0 or {@code -errno}. */
    public static int fallocate(int fd, int mode, long offset, long length) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) FALLOCATE.invokeExact(state, fd, mode, offset, length), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code ftruncate(2)}; returns 0 or {@code -errno}. */
    public static int ftruncate(int fd, long length) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) FTRUNCATE.invokeExact(state, fd, length), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code lseek(2)} with {@code SEEK_*} {@code whence}; returns the new offset or {@code -errno}. */
    public static long lseek(int fd, long offset, int whence) {
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) LSEEK.invokeExact(state, fd, offset, whence), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    // ---- pipes, eventfd, timerfd, sockets -----------------------------------------------------

    /**
     * {@code pipe2(2)}: writes the read end to {@code fds[0]} and the write end to {@code fds[1]}
     * ({@code fds} holds at least two C ints).
     *
     * @return 0, or {@code -errno}
     */
    public static int pipe2(MemorySegment fds, int flags) {
        checkSize(fds, 2 * JAVA_INT.byteSize(), "fds");
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) PIPE2.invokeExact(state, fds, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code eventfd(2)} with {@code EFD_*} flags; returns the descriptor or {@code -errno}. */
    public static int eventfd(int initialValue, int flags) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) EVENTFD.invokeExact(state, initialValue, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code timerfd_create(2)} on {@code CLOCK_*} {@code clockId}; returns the descriptor or {@code -errno}. */
    public static int timerfdCreate(int clockId, int flags) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) TIMERFD_CREATE.invokeExact(state, clockId, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code timerfd_settime(2)}. {@code newValue} is an {@link #ITIMERSPEC}; {@code oldValue} is one too
     * or {@link MemorySegment#NULL}. A zero {@code it_value} disarms the timer.
     *
     * @return 0, or {@code -errno}
     */
    public static int timerfdSettime(int fd, int flags, MemorySegment newValue, MemorySegment oldValue) {
        checkSize(newValue, ITIMERSPEC.byteSize(), "newValue");
        if (!oldValue.equals(MemorySegment.NULL)) {
            checkSize(oldValue, ITIMERSPEC.byteSize(), "oldValue");
        }
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) TIMERFD_SETTIME.invokeExact(state, fd, flags, newValue, oldValue), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code socketpair(2)}: writes the two connected descriptors to {@code fds[0]} and {@code fds[1]}.
     *
     * @return 0, or {@code -errno}
     */
    public static int socketpair(int domain, int type, int protocol, MemorySegment fds) {
        checkSize(fds, 2 * JAVA_INT.byteSize(), "fds");
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) SOCKETPAIR.invokeExact(state, domain, type, protocol, fds), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code recv(2)} with {@code MSG_*} flags; returns the bytes received or {@code -errno}. */
    public static long recv(int fd, MemorySegment buffer, long count, int flags) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) RECV.invokeExact(state, fd, buffer, count, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code send(2)} with {@code MSG_*} flags; returns the bytes sent or {@code -errno}. */
    public static long send(int fd, MemorySegment buffer, long count, int flags) {
        checkBuffer(buffer, count);
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) SEND.invokeExact(state, fd, buffer, count, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code shutdown(2)} with {@code SHUT_*} {@code how}; returns 0 or {@code -errno}. */
    public static int shutdown(int fd, int how) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) SHUTDOWN.invokeExact(state, fd, how), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    // ---- memory -------------------------------------------------------------------------------

    /**
     * {@code mmap(2)}. User-space addresses are below 2<sup>47</sup> on the supported platforms, so a
     * mapping's address is always positive and cannot be mistaken for {@code -errno}.
     *
     * @return the mapping's address, or {@code -errno}
     */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        MemorySegment state = CALL_STATE.get();
        try {
            MemorySegment mapped = (MemorySegment) MMAP.invokeExact(
                    state, MemorySegment.ofAddress(address), length, prot, flags, fd, offset);
            return longResult(mapped.address(), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@code munmap(2)}; returns 0 or {@code -errno}. */
    public static int munmap(long address, long length) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) MUNMAP.invokeExact(state, MemorySegment.ofAddress(address), length), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    // ---- epoll --------------------------------------------------------------------------------

    /** {@code epoll_create1(2)} with {@code EPOLL_CLOEXEC} or 0; returns the descriptor or {@code -errno}. */
    public static int epollCreate1(int flags) {
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) EPOLL_CREATE1.invokeExact(state, flags), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code epoll_ctl(2)}. {@code event} is an {@link #EPOLL_EVENT}, or {@link MemorySegment#NULL} for
     * {@code EPOLL_CTL_DEL}.
     *
     * @return 0, or {@code -errno}
     */
    public static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        if (!event.equals(MemorySegment.NULL)) {
            checkSize(event, EPOLL_EVENT.byteSize(), "event");
        }
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code epoll_wait(2)} into {@code events}, an array of at least {@code maxEvents}
     * {@link #EPOLL_EVENT}s; {@code timeoutMillis} -1 waits for ever, 0 does not wait.
     *
     * @return the number of ready events, or {@code -errno} ({@code -EINTR} when a signal interrupted it)
     */
    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        if (maxEvents <= 0) {
            throw new IllegalArgumentException("maxEvents must be positive: " + maxEvents);
        }
        checkSize(events, maxEvents * EPOLL_EVENT.byteSize(), "events");
        MemorySegment state = CALL_STATE.get();
        try {
            return intResult((int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMillis), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    // ---- processes and raw system calls -------------------------------------------------------

    /** {@code getpid(2)}, which cannot fail. */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * Whether {@code fd} is a socket: {@code getsockopt(fd, SOL_SOCKET, SO_TYPE)} succeeds on sockets
     * only ({@code ENOTSOCK} otherwise; {@code EBADF} for a closed number, which is reported as false).
     * Made as a raw system call, so it does not depend on the C library's binding.
     */
    public static boolean isSocket(int fd) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment value = local.allocate(8, 4); // int optval, then socklen_t optlen
            value.set(ValueLayout.JAVA_INT, 4, 4);
            return syscall(Linux.SYS_GETSOCKOPT, fd, Linux.SOL_SOCKET, Linux.SO_TYPE,
                    value.address(), value.address() + 4, 0) == 0;
        }
    }

    /**
     * The file type of {@code fd}, {@code stx_mode & S_IFMT} (for example {@link Linux#S_IFREG}), from
     * {@code statx(fd, "", AT_EMPTY_PATH, STATX_TYPE)} as a raw system call; or {@code -errno}.
     */
    public static int fileType(int fd) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment empty = local.allocate(1); // "" (zeroed)
            MemorySegment statx = local.allocate(256, 8);
            long result = syscall(Linux.SYS_STATX, fd, empty.address(), Linux.AT_EMPTY_PATH, Linux.STATX_TYPE,
                    statx.address(), 0);
            return result < 0 ? (int) result : statx.get(ValueLayout.JAVA_SHORT, Linux.STATX_MODE_OFFSET) & Linux.S_IFMT;
        }
    }

    /**
     * {@code syscall(2)}: system call {@code number} with six register arguments (the kernel ignores the
     * ones the call does not take). libc's {@code syscall} is variadic and is bound as such. Pointers are
     * passed as addresses ({@link MemorySegment#address()}); the caller keeps their memory alive for the
     * call. Used for {@link Linux#SYS_IO_URING_SETUP}, {@link Linux#SYS_IO_URING_ENTER} and
     * {@link Linux#SYS_IO_URING_REGISTER}, so it allocates nothing.
     *
     * @return the system call's result, or {@code -errno}
     */
    public static long syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
        MemorySegment state = CALL_STATE.get();
        try {
            return longResult((long) SYSCALL.invokeExact(state, number, a0, a1, a2, a3, a4, a5), state);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library function not found: " + name));
    }

    /** A downcall that captures errno: its handle takes the capture segment as first argument. */
    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol(name), descriptor, options);
    }

    private static int intResult(int result, MemorySegment state) {
        return result == -1 ? -state.get(JAVA_INT, ERRNO_OFFSET) : result;
    }

    private static long longResult(long result, MemorySegment state) {
        return result == -1 ? -state.get(JAVA_INT, ERRNO_OFFSET) : result;
    }

    private static void checkBuffer(MemorySegment buffer, long count) {
        if (count < 0 || count > buffer.byteSize()) {
            throw new IllegalArgumentException(
                    "count " + count + " outside buffer of " + buffer.byteSize() + " bytes");
        }
    }

    private static void checkIovecs(MemorySegment iovecs, int iovcnt) {
        if (iovcnt < 0 || iovcnt * IOVEC.byteSize() > iovecs.byteSize()) {
            throw new IllegalArgumentException(
                    iovcnt + " iovecs do not fit in a segment of " + iovecs.byteSize() + " bytes");
        }
    }

    private static void checkSize(MemorySegment segment, long required, String what) {
        if (segment.byteSize() < required) {
            throw new IllegalArgumentException(
                    what + " needs " + required + " bytes, the segment has " + segment.byteSize());
        }
    }

    /** Downcalls throw only unchecked exceptions; anything else would be a bug in this class. */
    private static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected exception from a downcall", t);
    }
}
