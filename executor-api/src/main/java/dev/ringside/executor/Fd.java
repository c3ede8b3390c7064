package dev.ringside.executor;

import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.FileSystems;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;

/**
 * An owned Linux file descriptor: closed exactly once, when its owner has closed it and no operation
 * holds it any more.
 *
 * <p><b>Ownership.</b> The object that created or {@linkplain #adopt adopted} an {@code Fd} owns it and
 * gives it up with {@link #close()}. An IO operation in flight {@linkplain #retain holds} the
 * descriptor from submission until its completion, then {@linkplain #release releases} it; the kernel
 * therefore never sees the number closed (or worse, reused by another open) under an operation.
 *
 * <p><b>State.</b> A reference count (the owner's reference plus one per hold) packed in one {@code int},
 * changed only by compare-and-set through a {@link VarHandle} (volatile semantics: every change is
 * visible to every thread and ordered with the calls around it):
 * <ul>
 *   <li>bit 0, {@code CLOSED}, is set by the first {@link #close()}: the owner's reference is gone;</li>
 *   <li>bits 1..31 count the holds.</li>
 * </ul>
 * The initial state is 0 (owner present, no holds), the field's default value, so even an {@code Fd}
 * published without synchronisation is never seen closed. Invariants: no reference remains exactly
 * when the state is {@code CLOSED} (1); no transition leaves that state ({@code retain} and
 * {@code close} need the bit clear, {@code release} needs a hold), so the one thread whose
 * compare-and-set produces it is the only caller of {@code close(2)}. Once the bit is set no hold can
 * be taken, so after {@code close()} the count only falls. A reactor may give an {@code Fd} a second
 * number of its own to close with it ({@link #closeTogether}); the same transition closes that one,
 * right after this one.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. {@link #intValue()} is for the owner:
 * an operation must use the number returned by {@link #retain()}, which stays valid until its
 * {@link #release()}, because the owner may close concurrently.
 *
 * <p><b>Errors.</b> Creation failures throw {@link ErrnoException} naming the call. A failing
 * {@code close(2)} is logged through {@link System.Logger} (the number is released anyway on Linux) and
 * never thrown. An {@code Fd} that is never closed leaks its descriptor: there is no cleaner.
 */
public final class Fd implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Fd.class.getName());

    private static final int CLOSED = 1;
    private static final int HOLD = 2;
    private static final VarHandle STATE;
    private static final VarHandle COMPANION;
    private static final VarHandle REGISTERED;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Fd.class, "state", int.class);
            COMPANION = MethodHandles.lookup().findVarHandle(Fd.class, "companion", int.class);
            REGISTERED = MethodHandles.lookup().findVarHandle(Fd.class, "registered", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Permission bits for files {@link #open} creates, before the umask. */
    private static final int CREATE_MODE = 0644;

    private final int fd;
    @SuppressWarnings("unused") // accessed through STATE; 0 = owned, no holds
    private volatile int state;
    /**
     * A second number closed right after this one, or -1; see {@link #closeTogether}. Set once, by
     * compare-and-set under a hold, so the state transition that closes the number (a later
     * compare-and-set) sees it.
     */
    private volatile int companion = -1;
    /** Whether an executor has made this {@code Fd} a source ({@link #claimRegistration}). Compare-and-set only. */
    @SuppressWarnings("unused") // accessed through REGISTERED
    private volatile boolean registered;

    private Fd(int fd) {
        this.fd = fd;
    }

    /**
     * Claims this {@code Fd} for one registration ({@link RawExecutor#register}); false if it was
     * claimed before. {@code undo}: gives a claim back, after a registration that failed.
     */
    boolean claimRegistration(boolean undo) {
        return undo ? REGISTERED.compareAndSet(this, true, false) : REGISTERED.compareAndSet(this, false, true);
    }

    /** The two ends of a pipe; closing the pair closes both. */
    public record Pipe(Fd readEnd, Fd writeEnd) implements AutoCloseable {
        public Pipe {
            Objects.requireNonNull(readEnd, "readEnd");
            Objects.requireNonNull(writeEnd, "writeEnd");
        }

        @Override
        public void close() {
            readEnd.close();
            writeEnd.close();
        }
    }

    /** Two connected sockets; closing the pair closes both. */
    public record SocketPair(Fd first, Fd second) implements AutoCloseable {
        public SocketPair {
            Objects.requireNonNull(first, "first");
            Objects.requireNonNull(second, "second");
        }

        @Override
        public void close() {
            first.close();
            second.close();
        }
    }

    // ---- creation -----------------------------------------------------------------------------

    /**
     * Opens {@code path} with {@code open(2)}, always {@code O_CLOEXEC}, creating files with mode 0644
     * (less the umask). Options mean what they mean for {@link java.nio.channels.FileChannel#open}:
     * {@link StandardOpenOption#READ}, {@code WRITE}, {@code APPEND} (implies writing),
     * {@code CREATE}, {@code CREATE_NEW}, {@code TRUNCATE_EXISTING} (the last three only apply when
     * writing), {@code DSYNC}, {@code SYNC}, and {@link LinuxOpenOption#DIRECT} and
     * {@link LinuxOpenOption#NOATIME}. With no access option the file is opened for reading.
     *
     * @throws UnsupportedOperationException for any other option, naming it
     * @throws ProviderMismatchException if {@code path} is not on the default file system
     * @throws ErrnoException if {@code open(2)} fails; the call is {@code open(<path>)}
     */
    public static Fd open(Path path, OpenOption... options) throws IOException {
        Objects.requireNonNull(path, "path");
        if (path.getFileSystem() != FileSystems.getDefault()) {
            throw new ProviderMismatchException("not a path of the default file system: " + path);
        }
        int flags = openFlags(options);
        int result = LibC.open(path.toString(), flags, CREATE_MODE);
        return new Fd(ErrnoException.check("open(" + path + ")", result));
    }

    private static int openFlags(OpenOption... options) {
        boolean read = false, write = false, append = false, create = false, createNew = false, truncate = false;
        int extra = Linux.O_CLOEXEC;
        for (OpenOption option : options) {
            Objects.requireNonNull(option, "option");
            switch (option) {
                case StandardOpenOption.READ -> read = true;
                case StandardOpenOption.WRITE -> write = true;
                case StandardOpenOption.APPEND -> append = true;
                case StandardOpenOption.CREATE -> create = true;
                case StandardOpenOption.CREATE_NEW -> createNew = true;
                case StandardOpenOption.TRUNCATE_EXISTING -> truncate = true;
                case StandardOpenOption.DSYNC -> extra |= Linux.O_DSYNC;
                case StandardOpenOption.SYNC -> extra |= Linux.O_SYNC;
                case LinuxOpenOption.DIRECT -> extra |= Linux.O_DIRECT;
                case LinuxOpenOption.NOATIME -> extra |= Linux.O_NOATIME;
                default -> throw unsupported(option);
            }
        }
        write |= append;
        int flags = extra | (read && write ? Linux.O_RDWR : write ? Linux.O_WRONLY : Linux.O_RDONLY);
        if (write) {
            if (append) {
                flags |= Linux.O_APPEND;
            }
            if (truncate) {
                flags |= Linux.O_TRUNC;
            }
            if (createNew) {
                flags |= Linux.O_CREAT | Linux.O_EXCL;
            } else if (create) {
                flags |= Linux.O_CREAT;
            }
        }
        return flags;
    }

    private static UnsupportedOperationException unsupported(OpenOption option) {
        return new UnsupportedOperationException("Fd.open does not support the option " + option);
    }

    /**
     * A pipe from {@code pipe2(2)}, {@code O_CLOEXEC} and blocking.
     *
     * @throws ErrnoException if {@code pipe2} fails (e.g. {@code EMFILE})
     */
    public static Pipe pipe() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            ErrnoException.check("pipe2(O_CLOEXEC)", LibC.pipe2(fds, Linux.O_CLOEXEC));
            return new Pipe(new Fd(fds.getAtIndex(ValueLayout.JAVA_INT, 0)),
                    new Fd(fds.getAtIndex(ValueLayout.JAVA_INT, 1)));
        }
    }

    /**
     * An eventfd from {@code eventfd(2)}, {@code EFD_CLOEXEC}, blocking; with {@code semaphore} it is an
     * {@code EFD_SEMAPHORE} (each read takes 1 from the counter instead of all of it).
     *
     * @throws IllegalArgumentException if {@code initialValue} is negative
     * @throws ErrnoException if {@code eventfd} fails
     */
    public static Fd eventfd(int initialValue, boolean semaphore) throws IOException {
        if (initialValue < 0) {
            throw new IllegalArgumentException("initialValue must not be negative: " + initialValue);
        }
        int flags = Linux.EFD_CLOEXEC | (semaphore ? Linux.EFD_SEMAPHORE : 0);
        return new Fd(ErrnoException.check("eventfd(" + initialValue + ")", LibC.eventfd(initialValue, flags)));
    }

    /**
     * A disarmed timer from {@code timerfd_create(2)} on {@code CLOCK_MONOTONIC}, {@code TFD_CLOEXEC},
     * blocking. Arm it with {@link #setTimer}; a read returns the 8-byte count of expirations.
     *
     * @throws ErrnoException if {@code timerfd_create} fails
     */
    public static Fd timerfd() throws IOException {
        return new Fd(ErrnoException.check("timerfd_create(CLOCK_MONOTONIC)",
                LibC.timerfdCreate(Linux.CLOCK_MONOTONIC, Linux.TFD_CLOEXEC)));
    }

    /**
     * Two connected {@code AF_UNIX} {@code SOCK_STREAM} sockets, {@code SOCK_CLOEXEC}, blocking.
     *
     * @throws ErrnoException if {@code socketpair} fails
     */
    public static SocketPair socketpair() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            ErrnoException.check("socketpair(AF_UNIX, SOCK_STREAM)", LibC.socketpair(
                    Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0, fds));
            return new SocketPair(new Fd(fds.getAtIndex(ValueLayout.JAVA_INT, 0)),
                    new Fd(fds.getAtIndex(ValueLayout.JAVA_INT, 1)));
        }
    }

    /**
     * Takes ownership of {@code fd}: from now on only the returned object closes it. Nothing checks that
     * the number is open or not owned elsewhere.
     *
     * @throws IllegalArgumentException if {@code fd} is negative
     */
    public static Fd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        return new Fd(fd);
    }

    // ---- operations ---------------------------------------------------------------------------

    /**
     * A new owner of the same open file description, from {@code fcntl(F_DUPFD_CLOEXEC)}: closing either
     * leaves the other working; offsets and status flags are shared.
     *
     * @throws IllegalStateException if this was closed
     * @throws ErrnoException if {@code fcntl} fails (e.g. {@code EMFILE})
     */
    public Fd dup() throws IOException {
        int number = retain();
        try {
            return new Fd(ErrnoException.check("dup(fd " + number + ")", LibC.dupCloexec(number)));
        } finally {
            release();
        }
    }

    /**
     * Arms this timerfd with {@code timerfd_settime(2)}, relative to now: first expiry after
     * {@code initialExpiration}, then every {@code interval} ({@link Duration#ZERO} for a one-shot
     * timer). A zero {@code initialExpiration} disarms the timer.
     *
     * @throws IllegalArgumentException if a duration is negative
     * @throws IllegalStateException if this was closed
     * @throws ErrnoException if {@code timerfd_settime} fails ({@code EINVAL} if this is not a timerfd)
     */
    public void setTimer(Duration initialExpiration, Duration interval) throws IOException {
        if (initialExpiration.isNegative() || interval.isNegative()) {
            throw new IllegalArgumentException(
                    "timer durations must not be negative: " + initialExpiration + ", " + interval);
        }
        int number = retain();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment spec = arena.allocate(LibC.ITIMERSPEC); // { it_interval, it_value }
            spec.set(ValueLayout.JAVA_LONG, 0, interval.getSeconds());
            spec.set(ValueLayout.JAVA_LONG, 8, interval.getNano());
            spec.set(ValueLayout.JAVA_LONG, 16, initialExpiration.getSeconds());
            spec.set(ValueLayout.JAVA_LONG, 24, initialExpiration.getNano());
            ErrnoException.check("timerfd_settime(fd " + number + ")",
                    LibC.timerfdSettime(number, 0, spec, MemorySegment.NULL));
        } finally {
            release();
        }
    }

    /**
     * The descriptor number, for the owner.
     *
     * @throws IllegalStateException once {@link #close()} was called, even while holds keep the number open
     */
    public int intValue() {
        if (((int) STATE.getVolatile(this) & CLOSED) != 0) {
            throw new IllegalStateException("Fd " + fd + " is closed");
        }
        return fd;
    }

    /** The number, unchecked: for a caller that knows a hold keeps it open. */
    int heldNumber() {
        return fd;
    }

    /** {@code true} until {@link #close()} is called (the number may stay open a little longer for holds). */
    public boolean isOpen() {
        return ((int) STATE.getVolatile(this) & CLOSED) == 0;
    }

    /**
     * Gives up the owner's reference. The number is closed now if no operation holds it, else by the last
     * {@link #release()}. Idempotent; any thread. A {@code close(2)} failure is logged, not thrown.
     */
    @Override
    public void close() {
        int current = (int) STATE.getVolatile(this);
        while ((current & CLOSED) == 0) {
            int witness = (int) STATE.compareAndExchange(this, current, current | CLOSED);
            if (witness == current) {
                if (current == 0) {
                    closeNumber();
                }
                return;
            }
            current = witness;
        }
    }

    /**
     * Takes a hold for an operation about to use the descriptor; the number stays open until the
     * matching {@link #release()}, even if the owner closes meanwhile. Any thread.
     *
     * @return the descriptor number, valid until the matching {@code release()}
     * @throws IllegalStateException if {@link #close()} was already called, or the hold count would overflow
     */
    int retain() {
        int current = (int) STATE.getVolatile(this);
        while (true) {
            if ((current & CLOSED) != 0) {
                throw new IllegalStateException("Fd " + fd + " is closed");
            }
            if (current > Integer.MAX_VALUE - HOLD) {
                throw new IllegalStateException("Fd " + fd + " has too many holds");
            }
            int witness = (int) STATE.compareAndExchange(this, current, current + HOLD);
            if (witness == current) {
                return fd;
            }
            current = witness;
        }
    }

    /**
     * Drops a hold taken by {@link #retain()}; closes the number if the owner has closed and this was the
     * last hold. Any thread.
     *
     * @throws IllegalStateException if no hold is outstanding
     */
    void release() {
        int current = (int) STATE.getVolatile(this);
        while (true) {
            if (current < HOLD) {
                throw new IllegalStateException("Fd " + fd + ": release() without a matching retain()");
            }
            int witness = (int) STATE.compareAndExchange(this, current, current - HOLD);
            if (witness == current) {
                if (current - HOLD == CLOSED) { // the owner has closed and this was the last hold
                    closeNumber();
                }
                return;
            }
            current = witness;
        }
    }

    /** The number of operation holds outstanding (a snapshot, for tests and diagnostics). */
    int holds() {
        return (int) STATE.getVolatile(this) >>> 1;
    }

    /**
     * Makes {@code number}, a descriptor opened for the use of this one's operations (a reactor's private
     * description of the same pipe), close right after this one: when the owner has closed and no
     * operation holds it. So {@code number} is open whenever an operation holds this descriptor. At most
     * once. If this descriptor is already closed, {@code number} is closed at once and
     * {@link IllegalStateException} thrown.
     */
    void closeTogether(int number) {
        if (number < 0 || number == fd) {
            throw new IllegalArgumentException("Fd " + fd + " cannot close " + number + " with it");
        }
        try {
            retain(); // the closing transition cannot happen before the release below, which publishes companion
        } catch (IllegalStateException e) {
            closeQuietly(number);
            throw e;
        }
        try {
            if (!COMPANION.compareAndSet(this, -1, number)) { // at most once, even when called concurrently
                closeQuietly(number);
                throw new IllegalStateException("Fd " + fd + " already closes " + companion + " with it");
            }
        } finally {
            release();
        }
    }

    /** Reached exactly once, by the transition of the state to {@code CLOSED} with no holds. */
    private void closeNumber() {
        closeQuietly(fd);
        int second = companion;
        if (second != -1) {
            closeQuietly(second);
        }
    }

    private static void closeQuietly(int number) {
        int result = LibC.close(number);
        if (result < 0) {
            LOG.log(System.Logger.Level.WARNING, () -> new ErrnoException("close(fd " + number + ")", -result).getMessage());
        }
    }

    /** {@code "Fd[12]"}, or {@code "Fd[closed]"} once {@link #close()} was called. */
    @Override
    public String toString() {
        return isOpen() ? "Fd[" + fd + "]" : "Fd[closed]";
    }
}
