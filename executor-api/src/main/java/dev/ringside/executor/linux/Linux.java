package dev.ringside.executor.linux;

/**
 * Linux constants the executor and the reactors pass to {@link LibC}: open flags, eventfd, timerfd,
 * socket, fcntl, fallocate, mmap, epoll and poll masks, {@code RWF_*} and the io_uring system call
 * numbers.
 *
 * <p><b>Architecture.</b> Values are those of x86_64 Linux with glibc. They are the same on aarch64
 * except for {@link #O_DIRECT}, {@link #O_DIRECTORY} and {@link #O_NOFOLLOW}, which are therefore chosen
 * from {@code os.arch} at class initialisation (and are not compile-time constants). The io_uring
 * system call numbers (425, 426, 427) come from the generic table and are the same on every
 * architecture. Any other architecture is refused by {@link #requireSupportedPlatform()}.
 */
public final class Linux {
    private Linux() {}

    /** {@code true} on aarch64, where a few open flags differ from x86_64. */
    public static final boolean AARCH64 = isAarch64(System.getProperty("os.arch", ""));

    // ---- open(2) ------------------------------------------------------------------------------
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DSYNC = 010000;
    /** {@code 040000} on x86_64, {@code 0200000} on aarch64. */
    public static final int O_DIRECT = AARCH64 ? 0200000 : 040000;
    /** {@code 0200000} on x86_64, {@code 040000} on aarch64. */
    public static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
    /** {@code 0400000} on x86_64, {@code 0100000} on aarch64. */
    public static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    /** {@code __O_SYNC | O_DSYNC}: full file integrity completion. */
    public static final int O_SYNC = 04010000;
    public static final int O_PATH = 010000000;
    /** For the {@code *at} calls and io_uring's {@code OPENAT}: relative to the working directory. */
    public static final int AT_FDCWD = -100;

    // ---- lseek(2) -----------------------------------------------------------------------------
    public static final int SEEK_SET = 0;
    public static final int SEEK_CUR = 1;
    public static final int SEEK_END = 2;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    // ---- fcntl(2) -----------------------------------------------------------------------------
    public static final int F_DUPFD = 0;
    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** Descriptor flag reported by {@link #F_GETFD}. */
    public static final int FD_CLOEXEC = 1;

    // ---- eventfd(2) ---------------------------------------------------------------------------
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = O_NONBLOCK;

    // ---- timerfd_create(2), clocks ------------------------------------------------------------
    public static final int TFD_CLOEXEC = O_CLOEXEC;
    public static final int TFD_NONBLOCK = O_NONBLOCK;
    /** {@code timerfd_settime} flag: the expiration is an absolute time on the timer's clock. */
    public static final int TFD_TIMER_ABSTIME = 1;
    public static final int TFD_TIMER_CANCEL_ON_SET = 2;
    public static final int CLOCK_REALTIME = 0;
    public static final int CLOCK_MONOTONIC = 1;
    public static final int CLOCK_BOOTTIME = 7;

    // ---- sockets ------------------------------------------------------------------------------
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = O_NONBLOCK;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_WAITALL = 0x100;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int SOL_SOCKET = 1;
    public static final int SO_TYPE = 3;

    // ---- fallocate(2) -------------------------------------------------------------------------
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_COLLAPSE_RANGE = 0x08;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    public static final int FALLOC_FL_INSERT_RANGE = 0x20;

    // ---- mmap(2) ------------------------------------------------------------------------------
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;

    // ---- epoll(7) -----------------------------------------------------------------------------
    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDNORM = 0x040;
    public static final int EPOLLRDBAND = 0x080;
    public static final int EPOLLWRNORM = 0x100;
    public static final int EPOLLWRBAND = 0x200;
    public static final int EPOLLMSG = 0x400;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    public static final int EPOLLWAKEUP = 1 << 29;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;

    // ---- poll(2) masks (also io_uring's POLL_ADD) ---------------------------------------------
    public static final int POLLIN = 0x001;
    public static final int POLLPRI = 0x002;
    public static final int POLLOUT = 0x004;
    public static final int POLLERR = 0x008;
    public static final int POLLHUP = 0x010;
    public static final int POLLNVAL = 0x020;
    public static final int POLLRDHUP = 0x2000;

    // ---- preadv2/pwritev2 and io_uring rw_flags -----------------------------------------------
    public static final int RWF_HIPRI = 0x01;
    public static final int RWF_DSYNC = 0x02;
    public static final int RWF_SYNC = 0x04;
    public static final int RWF_NOWAIT = 0x08;
    public static final int RWF_APPEND = 0x10;

    // ---- limits -------------------------------------------------------------------------------
    /** Most iovec entries one readv/writev call accepts. */
    public static final int IOV_MAX = 1024;

    // ---- io_uring system calls (generic table: identical on x86_64 and aarch64) ---------------
    public static final long SYS_IO_URING_SETUP = 425;
    public static final long SYS_IO_URING_ENTER = 426;
    public static final long SYS_IO_URING_REGISTER = 427;
    /** {@code getsockopt}: x86_64 has its own table, aarch64 the generic one. */
    public static final long SYS_GETSOCKOPT = AARCH64 ? 209 : 55;
    /** {@code statx} (Linux 4.11): its {@code struct statx} is the same on every architecture, unlike {@code struct stat}. */
    public static final long SYS_STATX = AARCH64 ? 291 : 332;
    /** {@code statx} flag: {@code pathname} is empty and {@code dirfd} is the file itself. */
    public static final int AT_EMPTY_PATH = 0x1000;
    /** {@code statx} mask bit: the file type bits of {@code stx_mode}. */
    public static final int STATX_TYPE = 0x1;
    /** Offset of {@code stx_mode} (a {@code __u16}) in {@code struct statx}, whose size is 256. */
    public static final int STATX_MODE_OFFSET = 28;
    /** File type bits of a mode, and the types: regular file, directory, block device. */
    public static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFDIR = 0040000, S_IFBLK = 0060000, S_IFIFO = 0010000;

    /**
     * Throws {@link UnsupportedOperationException} unless this is Linux on x86_64 or aarch64, the
     * platforms whose ABI (LP64, the constants above, the struct layouts in {@link LibC}) this package
     * assumes.
     */
    public static void requireSupportedPlatform() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        boolean x86_64 = arch.equals("amd64") || arch.equals("x86_64");
        if (!os.equals("Linux") || !(x86_64 || isAarch64(arch))) {
            throw new UnsupportedOperationException(
                    "ringside's native layer needs Linux on x86_64 or aarch64; this is " + os + " on " + arch);
        }
    }

    private static boolean isAarch64(String arch) {
        return arch.equals("aarch64") || arch.equals("arm64");
    }
}
