package dev.ringside.reactor.uring;

import static dev.ringside.executor.linux.Errno.EAGAIN;
import static dev.ringside.executor.linux.Errno.EBUSY;
import static dev.ringside.executor.linux.Errno.ECANCELED;
import static dev.ringside.executor.linux.Errno.EINTR;
import static dev.ringside.executor.linux.Errno.ETIME;
import static dev.ringside.reactor.uring.Uring.*;

import dev.ringside.executor.AbstractIoSource;
import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoOperation;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A reactor on io_uring, bound through FFM: raw {@code io_uring_setup} / {@code io_uring_enter} /
 * {@code io_uring_register} syscalls, rings mapped with {@code mmap}.
 *
 * <h2>What it submits</h2>
 * {@code READ}/{@code WRITE} for one region and {@code READV}/{@code WRITEV} for several (at an offset
 * or at the current position), except that a socket's reads and writes of one region are {@code RECV}
 * and {@code SEND} (with {@code MSG_NOSIGNAL}: a closed peer is {@code EPIPE}, never a signal), the
 * socket calls the epoll reactor makes too, {@code FSYNC} (with {@code IORING_FSYNC_DATASYNC} for fdatasync),
 * {@code FALLOCATE} (punch hole, zero range, allocate), {@code POLL_ADD} for readiness,
 * {@code ASYNC_CANCEL}, and {@code NOP}. The ring is created disabled and restricted to exactly these
 * opcodes, with no SQE flags, before it is enabled: anything else the ring is given fails with
 * {@code EACCES}. Every operation is truly asynchronous on this reactor.
 *
 * <h2>Operations and memory</h2>
 * Each operation occupies a slot of an {@link OpTable} from submission until its own completion; the
 * SQE's {@code user_data} names the slot and its generation. The slot keeps the {@link IoOperation},
 * which holds the memory and the descriptor (see {@link AbstractIoSource}), and the iovec array of a
 * vectored operation lives in per-slot native memory. Cancelling submits {@code ASYNC_CANCEL}; the
 * slot and its holds stay until the operation's completion arrives, whatever the kernel answers to
 * the cancel. A completion naming a free slot or an old generation is logged and ignored.
 *
 * <h2>{@code EAGAIN}</h2>
 * On a descriptor the caller made non-blocking ({@code O_NONBLOCK}), current kernels still make a
 * read or write wait for readiness, but kernels before 5.14, and some drivers on later ones, complete
 * it with {@code EAGAIN} instead. The epoll reactor waits in that case, so this one does too: a read
 * or write on a stream (anything but a regular file, directory or block device: pipes, sockets,
 * eventfds, timerfds, ttys) that the kernel answers with {@code EAGAIN}
 * keeps its slot, which then holds a {@code POLL_ADD} for the direction's readiness under the same
 * user_data; when that completes the read or write is submitted again, and whatever it answers then
 * (data, end of file, an error, or {@code EAGAIN} once more) is handled as before. Cancelling reaches
 * whichever of the two is in the kernel, and the holds stay until it is handed back.
 * {@link #readinessWaits()} counts these detours. One operation makes at most 31 of them: a descriptor
 * that keeps reporting readiness and answering {@code EAGAIN} (a driver that ignores the kernel's
 * per-call non-blocking flag) would otherwise make the loop spin, so the 32nd {@code EAGAIN} is the
 * operation's result. A wait after one in which another operation of the same source moved bytes
 * does not count: readers of one pipe that a byte wakes together all retry, and the losers wait again. Elsewhere, as on a regular file, {@code EAGAIN} is the result at once.
 *
 * <h2>Submission and waiting</h2>
 * SQEs written during a loop pass reach the kernel in the one {@code io_uring_enter} of
 * {@link #waitForWork}, which also waits; the exception is a read or write on an {@code O_DIRECT}
 * descriptor issued while other operations are in flight: it cannot complete from the page cache, so
 * it is handed to the kernel (and so to the device) as soon as it is issued
 * ({@link Builder#directSubmitBatch}). When the SQ is full the reactor flushes it with an
 * {@code io_uring_enter} and continues; if even that cannot make room, operations wait in a software
 * backlog, in order: submission never fails for lack of room. Completions that overflow the CQ are
 * kept by the kernel ({@code IORING_FEAT_NODROP}) and flushed by the next enter. A {@code waitForWork}
 * that must not block and has nothing to submit makes no enter when the ring was granted
 * {@code TASKRUN_FLAG} without {@code DEFER_TASKRUN}: it reaps the CQ from shared memory, and enters
 * only if the kernel raises {@code IORING_SQ_TASKRUN} or {@code IORING_SQ_CQ_OVERFLOW}, or after
 * {@value Ring#MAX_REAPS_WITHOUT_ENTER} such reaps in a row (the flag is not raised for every piece
 * of task work; see {@link Ring#mayReapWithoutEnter()}). So a loop that spins before blocking, or runs
 * many short passes, polls almost without system calls. The thread running
 * the loop registers the ring's descriptor in its table of registered rings
 * ({@code IORING_REGISTER_RING_FDS}, in {@link #onThreadStart()}) and drops it when the loop leaves
 * ({@link #onThreadStop()}), so its enters skip the descriptor lookup; the restrictions allow exactly
 * this register opcode and its inverse once the ring is enabled.
 *
 * <h2>Wake-ups</h2>
 * Other threads never touch the rings. {@link #wake()} writes to an eventfd that the loop keeps a
 * {@code READ} armed on; the eventfd is closed last, behind a gate that waits for wakers inside it, so
 * a late {@code wake()} never writes to a reused descriptor number.
 *
 * <h2>The file position</h2>
 * io_uring moves a file's position after a read or write at the current position ({@code -1}) only
 * when the request completes at once; one that completes later (every {@code O_DIRECT} one) leaves the
 * position where it was. So for a read or write at the current position of a file (not a stream), the
 * SQE names the position explicitly ({@code lseek(fd, 0, SEEK_CUR)} when it is written), and the
 * completion moves the position past what was transferred, as {@code read(2)}/{@code write(2)} would.
 * A write to an {@code O_APPEND} file is appended by the kernel wherever the position is, and leaves it
 * at the end. This is correct because the executor runs a source's reads and writes at the current
 * position one at a time, in issue order ({@link RawExecutor}'s <em>The file position</em>); it costs
 * two {@code lseek} calls per such operation.
 *
 * <h2>Threads</h2>
 * Everything but {@link #wake()}, {@link #nanoTime()} and the read-only accessors is called by the
 * executor's loop thread, one thread at a time, as {@link Reactor} specifies.
 *
 * <p>io_uring runs a request's task work (a read or write retried once its pipe or socket is ready, a
 * request queued for submission) on the thread that submitted it. Once that thread has ended, the
 * kernel cannot, and ends such a request with {@code ECANCELED} instead, having transferred nothing.
 * An executor's loop may move between threads (unless {@link Builder#singleIssuer}), and a loop on a
 * virtual thread submits from whichever carrier it is mounted on, so a read submitted from a thread
 * that has since ended would fail when its data arrives, although nobody cancelled it; on the epoll
 * reactor it reads the data. So a completion with {@code ECANCELED} that nobody asked for (the
 * operation's future is not done, and no drain has started) is not the operation's result: the
 * operation goes to the ring again, from the thread now running the loop, in the same slot and with
 * the same holds. {@link #resubmissions()} counts these. One operation is submitted again at most
 * {@value OpTable#MAX_RESUBMISSIONS} times, so nothing is submitted forever: the next such answer is
 * its result.
 */
public final class UringReactor implements Reactor {

    private static final System.Logger LOG = System.getLogger("dev.ringside.reactor.uring");
    /** user_data of the reactor's own SQEs: bit 63 set, never a slot. */
    private static final long WAKE_READ = Long.MIN_VALUE | 1, CANCEL = Long.MIN_VALUE | 2, NOP = Long.MIN_VALUE | 3;
    private static final int GATE_CLOSED = 1 << 30;

    /** Ring-side native memory: iovec arrays, the eventfd's buffers, enter arguments. */
    private final Arena arena = Arena.ofShared();
    private final Ring ring;
    private final OpTable ops;
    /** {@link Builder#submitBatch} meaning: SQEs reach the kernel once per loop pass (the default). */
    private static final int PER_PASS = Integer.MAX_VALUE;
    /** SQEs waiting that make {@link #submit} flush at once; see {@link Builder#submitBatch}. */
    private final int submitBatch;
    /** {@link Builder#singleIssuer}: the loop is bound to the first thread that runs it; see {@link #bindIssuer()}. */
    private final boolean singleIssuer;
    /** The same, when the SQE just written is a read or write on an {@code O_DIRECT} descriptor; see {@link Builder#directSubmitBatch}. */
    private final int directSubmitBatch;
    private MemorySegment[] iovecs;
    private final int eventFd;
    private final MemorySegment wakeReadBuffer;
    private final MemorySegment wakeValue;
    /** Wakers inside {@link #wake()}, plus {@link #GATE_CLOSED} once the eventfd may be closed. */
    private final AtomicInteger wakeGate = new AtomicInteger();

    // Loop-confined.
    /** Operations and cancel targets (boxed user_data) that did not fit the SQ, in order. */
    private final ArrayDeque<Object> backlog = new ArrayDeque<>();
    private boolean wakeArmed;
    /**
     * The thread a {@code SINGLE_ISSUER} ring is bound to, or null until one runs the loop; see
     * {@link #bindIssuer()}. Written once, by the first thread to run the loop; read by the threads that
     * run it later, which take the loop from the executor after it (an atomic hand-over that orders this
     * write before their read).
     */
    private Thread issuer;
    /**
     * A {@link Builder#singleIssuer} ring whose bound thread ended with the executor still open: no
     * thread may submit to it or wait on it any more; see {@link #orphan()}. Loop-confined.
     */
    private boolean orphaned;
    /** Operations the kernel cancelled because their submitting thread had ended, submitted again; see {@link #resubmissions()}. */
    private long resubmissions;
    private CompletableFuture<Void> drain;
    private boolean closed;
    private boolean registrationRefusalLogged;
    private boolean leakedOnClose;
    private final Ring.CompletionHandler onCompletion = this::completed;
    /** Reads and writes the kernel answered with {@code EAGAIN} and that waited for readiness; see {@link #readinessWaits()}. */
    private long readinessWaits;
    /**
     * Test hook: reads and writes carry {@code RWF_NOWAIT} ({@code MSG_DONTWAIT} on sockets), so the kernel answers
     * {@code EAGAIN} where it would otherwise wait, as kernels before 5.14 do for every
     * {@code O_NONBLOCK} descriptor.
     */
    boolean nowaitForTest;

    /** A reactor with the default settings of {@link #builder()}. */
    public UringReactor() throws IOException {
        this(builder());
    }

    private UringReactor(Builder builder) throws IOException {
        Ring opened = Ring.open(builder.entries, builder.wantedFlags(), arena);
        int wake = -1;
        try {
            if ((opened.features & FEAT_EXT_ARG) == 0) {
                throw new IOException("io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or newer is needed)");
            }
            wake = ErrnoException.check("eventfd(0, EFD_CLOEXEC)", LibC.eventfd(0, Linux.EFD_CLOEXEC));
        } catch (IOException | RuntimeException e) {
            opened.close();
            arena.close();
            throw e;
        }
        this.ring = opened;
        this.eventFd = wake;
        this.ops = new OpTable(Math.max(16, builder.entries));
        this.submitBatch = builder.submitBatch;
        this.singleIssuer = builder.singleIssuer;
        this.directSubmitBatch = builder.directSubmitBatch;
        this.iovecs = new MemorySegment[Math.max(16, builder.entries)];
        this.wakeReadBuffer = arena.allocate(8, 8);
        this.wakeValue = arena.allocate(8, 8);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
        armWakeRead();
    }

    /** Settings of a new reactor. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a {@link UringReactor}. */
    public static final class Builder {
        private int entries = 256;
        private boolean singleIssuer;
        private int submitBatch = PER_PASS;
        private int directSubmitBatch = 1;

        private Builder() {
        }

        /** SQ entries, a power of two from 1 to 32768 (default 256); the CQ gets twice as many. */
        public Builder entries(int entries) {
            if (entries < 1 || entries > 32768 || Integer.bitCount(entries) != 1) {
                throw new IllegalArgumentException("entries must be a power of two from 1 to 32768: " + entries);
            }
            this.entries = entries;
            return this;
        }

        /**
         * Also asks for {@code SINGLE_ISSUER} and {@code DEFER_TASKRUN} (default off): the kernel skips
         * locking on submission and runs completion work only when the loop asks for completions, which
         * makes each round trip cheaper (see the README's figures). The price is a thread binding. The
         * ring stays disabled until the first thread runs the executor's loop ({@code run},
         * {@code runUntil}, or a {@code close} that drains it); that thread enables it and is from then
         * on the only one the kernel lets submit or wait. So the executor may be built on any thread,
         * but every later {@code run}/{@code runUntil} must be on the same thread, and so must a
         * {@code close} while no loop runs (a {@code close} from elsewhere while the loop runs is fine:
         * the loop drains). Another thread gets an {@link IllegalStateException} that names both
         * threads, before it touches the ring. The thread must be a platform thread: the kernel sees a
         * virtual thread's current carrier, which can change. The binding holds even where the kernel
         * does not grant the flags (before Linux 6.0), so a program behaves the same everywhere; and it
         * lasts as long as the executor. If the bound thread ends before closing it, nobody can submit
         * to the ring or wait on it any more: any thread may then run the loop, whose tasks still run
         * but whose new operations fail at once with an {@link IllegalStateException}, and any thread
         * may close the executor, which closes the ring; but the memory and descriptors of operations
         * the ended thread left in the kernel stay held, never freed, as nothing can learn when the
         * kernel is done with them.
         */
        public Builder singleIssuer(boolean singleIssuer) {
            this.singleIssuer = singleIssuer;
            return this;
        }

        /**
         * Hands SQEs to the kernel as soon as {@code submitBatch} of them are waiting, instead of once
         * per loop pass (the default, {@link Integer#MAX_VALUE}): {@code 1} enters the kernel for every
         * operation, as fio does by default ({@code iodepth_batch_submit=1}). Batching saves system
         * calls; handing operations over one by one can keep some devices busier, at one system call
         * per operation (see the README's figures for 4 KiB {@code O_DIRECT} reads on a virtio disk).
         * Reads and writes on {@code O_DIRECT} descriptors follow {@link #directSubmitBatch} instead.
         */
        public Builder submitBatch(int submitBatch) {
            if (submitBatch < 1) {
                throw new IllegalArgumentException("submitBatch must be at least 1: " + submitBatch);
            }
            this.submitBatch = submitBatch;
            return this;
        }

        /**
         * Like {@link #submitBatch}, for the SQE of a read or write on a descriptor opened with
         * {@code O_DIRECT} (checked with {@code fcntl(F_GETFL)} when it is registered): when one is
         * written while the reactor holds other operations, the SQEs waiting are handed to the kernel
         * if there are at least {@code directSubmitBatch} of them. The default is {@code 1}: such an
         * operation goes to the kernel, and on to the device, as soon as it is issued, as fio does by
         * default. It cannot complete inline from the page cache, so a batch saves nothing but system
         * calls, while the device waits for the rest of the loop pass. An operation issued when the
         * reactor holds nothing else (queue depth 1) waits for the enter at the end of the loop pass,
         * which hands it over without a second system call. {@code Integer.MAX_VALUE} batches these
         * operations per pass like everything else.
         */
        public Builder directSubmitBatch(int directSubmitBatch) {
            if (directSubmitBatch < 1) {
                throw new IllegalArgumentException("directSubmitBatch must be at least 1: " + directSubmitBatch);
            }
            this.directSubmitBatch = directSubmitBatch;
            return this;
        }

        int wantedFlags() {
            int flags = SETUP_SUBMIT_ALL | SETUP_COOP_TASKRUN | SETUP_TASKRUN_FLAG;
            return singleIssuer ? flags | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN : flags;
        }

        /** Creates the reactor. */
        public UringReactor build() throws IOException {
            return new UringReactor(this);
        }

        /** This builder as a factory for {@link RawExecutor#create}. */
        public dev.ringside.executor.ReactorFactory<UringReactor> factory() {
            return this::build;
        }
    }

    // ---------------------------------------------------------------- what was granted

    /** The setup flags the kernel granted, e.g. {@code "CQSIZE|SUBMIT_ALL|COOP_TASKRUN|TASKRUN_FLAG"}. */
    public String setupFlags() {
        return setupFlagNames(ring.flags);
    }

    /** SQ entries granted. */
    public int sqEntries() {
        return ring.sqEntries;
    }

    /** CQ entries granted. */
    public int cqEntries() {
        return ring.cqEntries;
    }

    /** {@code io_uring_enter} calls made so far (read on the loop thread for an exact figure). */
    public long enterCalls() {
        return ring.enterCalls;
    }

    /** Non-blocking waits that reaped without {@code io_uring_enter} (test counter; loop thread). */
    long reapsWithoutEnter() {
        return ring.reapsWithoutEnter;
    }

    /**
     * Reads and writes so far that the kernel answered with {@code EAGAIN} instead of waiting, and that
     * the reactor therefore made wait for readiness ({@code POLL_ADD}) and submitted again (loop thread
     * for an exact figure). Current kernels wait by themselves; see the class comment.
     */
    public long readinessWaits() {
        return readinessWaits;
    }

    /**
     * Operations so far that the kernel ended with {@code ECANCELED} because the thread that had
     * submitted them had ended, and that the reactor therefore submitted again from the thread running
     * the loop (loop thread for an exact figure); see the class comment.
     */
    public long resubmissions() {
        return resubmissions;
    }

    /** Operations the kernel holds now (loop thread). */
    public int operationsInFlight() {
        return ops.size() + backlog.size();
    }

    // ---------------------------------------------------------------- availability

    /** Whether a restricted io_uring can be set up in this process (a real probe, cached). */
    public static boolean isAvailable() {
        return unavailabilityCause().isEmpty();
    }

    /** System property that makes io_uring unavailable (for tests and for users who must avoid it). */
    public static final String DISABLE_PROPERTY = "ringside.uring.disable";

    /**
     * Why io_uring cannot be used here, from the probe; empty when it can. {@code -Dringside.uring.disable=true}
     * makes it unavailable with that reason.
     */
    public static Optional<String> unavailabilityCause() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return Optional.of("disabled by -D" + DISABLE_PROPERTY + "=true");
        }
        return Probe.CAUSE;
    }

    private static final class Probe {
        static final Optional<String> CAUSE = probe();

        private static Optional<String> probe() {
            String kernel = read("/proc/sys/kernel/osrelease").orElse("unknown");
            Optional<String> disabled = read("/proc/sys/kernel/io_uring_disabled");
            if (disabled.isPresent() && disabled.get().equals("2")) {
                return Optional.of("kernel.io_uring_disabled=2: io_uring is disabled for every process (kernel " + kernel + ")");
            }
            try {
                builder().entries(4).build().close();
                return Optional.empty();
            } catch (IOException | RuntimeException | LinkageError e) {
                String hint = e instanceof ErrnoException errno ? switch (errno.symbol()) {
                    case "ENOSYS" -> " (the kernel has no io_uring, or seccomp blocks it)";
                    case "EPERM" -> " (kernel.io_uring_disabled=" + disabled.orElse("?") + ", seccomp or an LSM refuses it)";
                    case "EINVAL" -> " (the kernel is too old for restricted rings: Linux 5.10 or newer is needed)";
                    default -> "";
                } : "";
                return Optional.of("io_uring probe failed on kernel " + kernel + ": " + e.getMessage() + hint);
            }
        }

        private static Optional<String> read(String path) {
            try {
                return Optional.of(Files.readString(Path.of(path)).strip());
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    // ---------------------------------------------------------------- Reactor

    /**
     * Registers the ring in this thread's table of registered rings, so that the loop's
     * {@code io_uring_enter} calls skip the descriptor lookup (see {@link #ringRegistered()}); where
     * the kernel refuses, the loop enters by descriptor.
     */
    @Override
    public void onThreadStart() {
        if (singleIssuer) {
            bindIssuer();
        }
        if (orphaned) {
            return; // the kernel would refuse the registration
        }
        int result = ring.registerForThisThread();
        if (result < 0 && !registrationRefusalLogged) {
            registrationRefusalLogged = true;
            LOG.log(System.Logger.Level.DEBUG, "io_uring ring fd not registered for thread {0} ({1}); entering by descriptor",
                    Thread.currentThread().getName(), Errno.symbol(-result));
        }
    }

    /**
     * {@link Builder#singleIssuer}: the first thread to run the loop becomes the ring's only issuer for
     * good; on a ring granted {@code SINGLE_ISSUER} it enables the ring, which binds it in the kernel too.
     * Any other thread is refused here, before it could touch the ring, with an
     * {@link IllegalStateException} naming both threads (the kernel would answer its every
     * {@code io_uring_enter} with {@code EEXIST}). The binding holds whether or not the kernel granted
     * the flag (kernels before 6.0 do not), so a program behaves the same on every kernel.
     */
    private void bindIssuer() {
        Thread me = Thread.currentThread();
        if (issuer == null) {
            if (me.isVirtual()) {
                throw new IllegalStateException("UringReactor: a single-issuer ring (singleIssuer(true)) needs a platform "
                        + "thread to run its loop; " + me + " is virtual, and the kernel sees whichever carrier it is mounted on");
            }
            if (!ring.isEnabled()) {
                try {
                    ring.enable();
                } catch (ErrnoException e) {
                    throw new UncheckedIOException(e);
                }
            }
            issuer = me;
        } else if (issuer != me && !issuer.isAlive()) {
            if (!orphaned) {
                orphan();
            }
        } else if (issuer != me) {
            throw new IllegalStateException("UringReactor: the ring is single-issuer (singleIssuer(true)) and bound to thread \""
                    + issuer.getName() + "\", the first to run the executor's loop"
                    + "; thread \"" + me.getName() + "\" cannot submit to it or reap it. "
                    + "Run and close the executor on \"" + issuer.getName() + "\", or build the reactor without singleIssuer(true)");
        }
    }

    /**
     * The bound thread of a {@link Builder#singleIssuer} ring has ended with the executor open, and
     * another thread runs the loop (to close the executor, or to run tasks). Nobody may submit to the
     * ring, wait on it or register with it now ({@code EEXIST}), so nothing can cancel what the ended
     * thread left in flight or learn when the kernel is done with it: operations issued from now on
     * fail at once with an {@link IllegalStateException}, a drain ends at once, and {@link #close()}
     * unmaps and closes the ring, which makes the kernel cancel the rest, but leaks the memory and
     * descriptors those operations hold, as the kernel may still be using them. The loop reaps
     * completions that still arrive (on kernels without {@code DEFER_TASKRUN}, the kernel ends a
     * request whose task work can no longer run with {@code ECANCELED}).
     */
    private void orphan() {
        orphaned = true;
        LOG.log(System.Logger.Level.WARNING, "io_uring: the single-issuer ring''s thread \"{0}\" ended with the executor "
                + "still open; the ring accepts no new operations, and the memory and descriptors of the {1} in flight "
                + "stay held when the executor closes. Close the executor on its loop thread before that thread ends",
                issuer.getName(), ops.size());
        for (Object item : backlog.toArray()) { // never reached the kernel
            if (item instanceof IoOperation op) {
                ops.remove(op.token());
                op.complete(-ECANCELED);
            }
        }
        backlog.clear();
    }

    private IllegalStateException orphanedRing() {
        return new IllegalStateException("UringReactor: the ring is single-issuer (singleIssuer(true)) and its thread \""
                + issuer.getName() + "\" has ended without closing the executor: the ring accepts no operations; close the executor");
    }

    /** Drops the ring's registration in this thread's table (the table holds a reference to the ring). */
    @Override
    public void onThreadStop() {
        int result = ring.unregister();
        if (result < 0) {
            LOG.log(System.Logger.Level.WARNING, "io_uring ring fd unregistration failed ({0})", Errno.symbol(-result));
        }
    }

    /**
     * Whether the calling thread enters the ring through its registered index
     * ({@code IORING_REGISTER_RING_FDS}); true on the loop thread while a loop runs, where the kernel
     * allows it, and never on a virtual thread (a registration belongs to a carrier thread).
     */
    public boolean ringRegistered() {
        return ring.isRegisteredForThisThread();
    }

    @Override
    public void waitForWork(long deadlineNanos, Runnable setProcessing) throws IOException {
        if (orphaned) {
            waitOrphaned(deadlineNanos, setProcessing);
            return;
        }
        moveBacklog();
        if (!wakeArmed && drain == null) {
            armWakeRead(); // its completion re-arms it; this only repairs an arm that found no SQE
        }
        boolean wait = deadlineNanos != 0 && backlog.isEmpty() && !ring.completionsReady() && !ring.kernelNeedsEnter();
        long timeout = -1;
        if (wait && deadlineNanos != NO_DEADLINE) {
            timeout = deadlineNanos - System.nanoTime();
            if (timeout <= 0) {
                wait = false;
            }
        }
        if (!wait && ring.mayReapWithoutEnter()) {
            // Nothing to submit, no wait, and the kernel flags the work it has for us: the reap below
            // enters only if it must (a spinning loop polls here almost without system calls).
            setProcessing.run();
            reapAll();
            return;
        }
        int result = ring.enter(wait, timeout);
        if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY && result != -EAGAIN) {
            ErrnoException.check("io_uring_enter(fd " + ring.fd + ")", result);
        }
        setProcessing.run();
        reapAll();
    }

    /**
     * {@link #waitForWork} on an orphaned ring ({@link #orphan()}): nobody may enter it, so this sleeps
     * in steps of at most a millisecond (a {@link #wake()} is seen at the end of the step) and reaps
     * the CQ from shared memory.
     */
    private void waitOrphaned(long deadlineNanos, Runnable setProcessing) {
        if (deadlineNanos != 0 && !ring.completionsReady()) {
            long step = 1_000_000L;
            if (deadlineNanos != NO_DEADLINE) {
                step = Math.min(step, deadlineNanos - System.nanoTime());
            }
            if (step > 0) {
                LockSupport.parkNanos(step);
            }
        }
        setProcessing.run();
        ring.reap(onCompletion);
        checkDrained();
    }

    private void reapAll() {
        do {
            ring.reap(onCompletion);
            if (ring.kernelNeedsEnter()) {
                ring.enter(false, -1); // flushes overflowed completions and runs task work
            }
        } while (ring.completionsReady());
        checkDrained();
    }

    @Override
    public void wake() {
        int gate = wakeGate.getAndIncrement();
        try {
            if ((gate & GATE_CLOSED) == 0) {
                LibC.write(eventFd, wakeValue, 8);
            }
        } finally {
            wakeGate.decrementAndGet();
        }
    }

    @Override
    public CompletionStage<Void> onExecutorDrop() {
        drain = new CompletableFuture<>();
        if (orphaned) { // nothing may be submitted or awaited: what is in flight stays held (see orphan())
            drain.complete(null);
            return drain;
        }
        for (Object item : backlog.toArray()) {
            if (item instanceof IoOperation op) {
                backlog.remove(op);
                ops.remove(op.token());
                op.complete(-ECANCELED);
            }
        }
        for (IoOperation op : ops.snapshot()) {
            submitCancel(ops.userData(op.token()));
        }
        if (wakeArmed) {
            submitCancel(WAKE_READ);
        }
        checkDrained();
        return drain;
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public IoSource newSource(RawExecutor<?> executor, Fd fd) {
        if (executor.reactor() != this) {
            throw new IllegalArgumentException("newSource: the executor does not run this reactor");
        }
        int flags = LibC.fcntl(fd.intValue(), Linux.F_GETFL, 0);
        int type = LibC.fileType(fd.intValue());
        // A stream can wait for readiness: anything but a regular file, a directory or a block device
        // (pipes, sockets, eventfds, timerfds, ttys...). lseek cannot tell: eventfds and timerfds accept it.
        boolean stream = type >= 0 && type != Linux.S_IFREG && type != Linux.S_IFDIR && type != Linux.S_IFBLK;
        byte traits = (byte) ((LibC.isSocket(fd.intValue()) ? OpTable.SOCKET : 0) | (stream ? OpTable.STREAM : 0));
        return new UringSource(executor, fd, flags >= 0 && (flags & Linux.O_DIRECT) != 0, traits);
    }

    /**
     * Closes the gate of the wake-up eventfd, unmaps the rings and closes the descriptors. If the
     * kernel still holds operations (the drain deadline passed), the ring-side memory they may use is
     * leaked, never freed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!ring.isEnabled()) {
            wakeArmed = false; // its SQE was written, never submitted: the kernel holds nothing of ours
        } else if (!orphaned && drain == null && ops.size() == 0 && backlog.isEmpty() && wakeArmed) {
            dropWakeRead(); // closed without an executor's drain, e.g. unused (the availability probe)
        }
        wakeGate.getAndAdd(GATE_CLOSED);
        while ((wakeGate.get() & ~GATE_CLOSED) != 0) {
            Thread.onSpinWait();
        }
        boolean drained = ops.size() == 0 && !wakeArmed;
        leakedOnClose = !drained;
        ring.close();
        LibC.close(eventFd);
        if (drained) {
            arena.close();
        } else {
            LOG.log(System.Logger.Level.WARNING, "io_uring closed with {0} operations still held by the kernel; "
                    + "their ring-side memory is leaked, never freed", ops.size() + (wakeArmed ? 1 : 0));
        }
    }

    /**
     * For a reactor closed with nothing in flight but its own wake-up read and no executor drain:
     * cancels that read and waits, up to a second, for the kernel to hand back its buffer, so that
     * close can free the ring-side memory instead of leaking it.
     */
    private void dropWakeRead() {
        submitCancel(WAKE_READ);
        long deadline = System.nanoTime() + 1_000_000_000L;
        while (wakeArmed && System.nanoTime() - deadline < 0) {
            int result = ring.enter(true, 10_000_000L);
            if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY && result != -EAGAIN) {
                break;
            }
            reapAll();
        }
    }

    /** Test hook: whether {@link #close()} left the kernel holding memory, and so leaked it. */
    boolean leakedOnClose() {
        return leakedOnClose;
    }

    // ---------------------------------------------------------------- operations

    /** {@code direct}: the operation's source was opened with {@code O_DIRECT}; {@code traits}: its {@link OpTable} traits. */
    private void submit(IoOperation op, boolean direct, byte traits, UringSource source) {
        if (orphaned) {
            throw orphanedRing();
        }
        if (op.length() == 0 && (traits & (OpTable.STREAM | OpTable.SOCKET)) == OpTable.STREAM
                && (op.kind() == IoOperation.Kind.READ || op.kind() == IoOperation.Kind.WRITE)) {
            op.complete(callOfNothing(op)); // never waits; the ring would wait for readiness on some files
            return;
        }
        op.token(ops.add(op, traits, source)); // the slot's index; the SQE's user_data adds its generation
        if (!queueSqe(op)) {
            return; // in the backlog
        }
        boolean directReadWrite = direct && (op.kind() == IoOperation.Kind.READ || op.kind() == IoOperation.Kind.WRITE);
        int batch = directReadWrite ? directSubmitBatch : submitBatch;
        // A direct read or write alone in the table waits for the pass's enter: with nothing else in
        // flight the pass usually ends soon, and its enter hands it over without a second system call.
        if (batch != PER_PASS && (!directReadWrite || ops.size() > 1) && ring.unsubmitted() >= batch) {
            flush();
        }
    }

    /**
     * Writes {@code op}'s SQE, or, if the backlog is not empty or the SQ has no room, appends the
     * operation to the backlog; returns whether the SQE was written.
     */
    private boolean queueSqe(IoOperation op) {
        if (backlog.isEmpty() && prepare(op)) {
            return true;
        }
        backlog.add(op);
        return false;
    }

    /** Hands the SQEs written so far to the kernel without waiting (see {@link Builder#submitBatch}). */
    private void flush() {
        int result = ring.enter(false, -1);
        if (result < 0 && result != -EBUSY && result != -EAGAIN && result != -EINTR) {
            LOG.log(System.Logger.Level.ERROR, "io_uring_enter flush failed: {0}", result);
        }
    }

    private void cancel(IoOperation op) {
        if (backlog.remove(op)) {
            ops.remove(op.token());
            op.complete(-ECANCELED); // it never reached the kernel
            return;
        }
        submitCancel(ops.userData(op.token()));
    }

    private void submitCancel(long target) {
        long sqe = backlog.isEmpty() ? claimSqe() : -1;
        if (sqe < 0) {
            backlog.add(target);
            return;
        }
        writeCancel(sqe, target);
    }

    /** An SQE, flushing the SQ once if it is full; -1 if there is still no room. */
    private long claimSqe() {
        long sqe = ring.nextSqe();
        if (sqe < 0) {
            flush();
            sqe = ring.nextSqe();
        }
        return sqe;
    }

    /** Moves the backlog into the SQ, flushing as it fills, until it is empty or no room can be made. */
    private void moveBacklog() {
        while (!backlog.isEmpty()) {
            long sqe = claimSqe();
            if (sqe < 0) {
                reapAll(); // the kernel may need its CQ drained before it takes more
                sqe = claimSqe();
                if (sqe < 0) {
                    return;
                }
            }
            Object item = backlog.poll();
            if (item instanceof IoOperation op) {
                write(sqe, op);
            } else {
                writeCancel(sqe, (Long) item);
            }
        }
    }

    private boolean prepare(IoOperation op) {
        long sqe = claimSqe();
        if (sqe < 0) {
            return false;
        }
        write(sqe, op);
        return true;
    }

    /**
     * Writes {@code op}'s SQE: its own call, or, while it awaits readiness after {@code EAGAIN}, a
     * {@code POLL_ADD} for its direction under the same user_data.
     */
    private void write(long base, IoOperation op) {
        int traits = ops.traits(op.token());
        boolean socket = (traits & OpTable.SOCKET) != 0;
        byte opcode;
        long off = 0, addr = 0;
        int len = 0, opFlags = 0;
        switch (op.kind()) {
            case READ, WRITE -> {
                boolean read = op.kind() == IoOperation.Kind.READ;
                if ((traits & OpTable.AWAITING_READINESS) != 0) {
                    opcode = OP_POLL_ADD;
                    opFlags = read ? Linux.POLLIN : Linux.POLLOUT;
                } else if (op.bufferCount() == 1) {
                    addr = op.bufferAddress(0);
                    len = (int) op.bufferLength(0);
                    if (socket && (len != 0 || !read)) { // off, which is addr2 (a destination address) for these, stays 0
                        opcode = read ? OP_RECV : OP_SEND;
                        opFlags = (read ? 0 : Linux.MSG_NOSIGNAL) | (nowaitForTest ? Linux.MSG_DONTWAIT : 0);
                    } else {
                        opcode = read ? OP_READ : OP_WRITE;
                        off = offsetFor(op, traits);
                        opFlags = nowaitForTest ? Linux.RWF_NOWAIT : 0;
                    }
                } else {
                    opcode = read ? OP_READV : OP_WRITEV;
                    off = offsetFor(op, traits);
                    opFlags = nowaitForTest ? Linux.RWF_NOWAIT : 0;
                    MemorySegment iov = iovecsFor(op.token(), op.bufferCount());
                    for (int i = 0; i < op.bufferCount(); i++) {
                        iov.set(ValueLayout.JAVA_LONG, 16L * i, op.bufferAddress(i));
                        iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, op.bufferLength(i));
                    }
                    addr = iov.address();
                    len = op.bufferCount();
                }
            }
            case POLL_READABLE, POLL_WRITABLE -> {
                opcode = OP_POLL_ADD;
                opFlags = op.kind() == IoOperation.Kind.POLL_READABLE ? Linux.POLLIN : Linux.POLLOUT;
            }
            case NOP -> opcode = OP_NOP;
            case FSYNC -> opcode = OP_FSYNC;
            case FDATASYNC -> {
                opcode = OP_FSYNC;
                opFlags = FSYNC_DATASYNC;
            }
            case FALLOCATE -> {
                opcode = OP_FALLOCATE;
                off = op.offset();
                addr = op.length();
                len = op.fallocateMode();
            }
            default -> throw new AssertionError(op.kind());
        }
        ring.writeSqe(base, opcode, op.fd(), off, addr, len, opFlags, ops.userData(op.token()));
    }

    /**
     * A read or write of nothing on a stream that is not a socket, answered as {@code read(2)}/
     * {@code write(2)} (one region) or {@code readv(2)}/{@code writev(2)} (several, which answer 0
     * before asking the file) answer it, on the loop thread: such a call never waits (pipes, FIFOs and
     * ttys answer 0; eventfds and timerfds {@code EINVAL}), while the ring waits for readiness first on
     * files the kernel cannot try without blocking (named FIFOs, ttys), for ever on a FIFO that will
     * report none.
     */
    private static long callOfNothing(IoOperation op) {
        if (op.bufferCount() > 1) {
            return 0;
        }
        MemorySegment nothing = MemorySegment.ofAddress(op.bufferAddress(0));
        return op.kind() == IoOperation.Kind.READ ? LibC.read(op.fd(), nothing, 0) : LibC.write(op.fd(), nothing, 0);
    }

    /**
     * The offset for the SQE of a read or write: its own, or, at the current position of a file, the
     * position now, which the completion then advances (see "The file position" in the class comment).
     */
    private long offsetFor(IoOperation op, int traits) {
        long offset = op.offset();
        if (offset != IoSource.CURRENT_POSITION || (traits & OpTable.STREAM) != 0) {
            return offset; // a stream has no position: the kernel reads or writes it as it comes
        }
        if (op.kind() == IoOperation.Kind.WRITE && (LibC.fcntl(op.fd(), Linux.F_GETFL, 0) & Linux.O_APPEND) != 0) {
            ops.position(op.token(), OpTable.APPENDING);
            return offset; // the kernel appends, wherever the position is
        }
        long position = LibC.lseek(op.fd(), 0, Linux.SEEK_CUR);
        if (position < 0) {
            ops.position(op.token(), OpTable.APPENDING - 1); // no position to advance: the kernel answers
            return offset;
        }
        ops.position(op.token(), position);
        return position;
    }

    /**
     * After a read or write at the current position of a file: moves the position past what it
     * transferred, as read(2) and write(2) do (to the end of an {@code O_APPEND} file after a write).
     */
    private void advancePosition(IoOperation op, int index, int transferred) {
        long position = ops.position(index);
        if (position == OpTable.APPENDING) {
            if (transferred > 0) { // write(2) of nothing leaves the position where it is, O_APPEND or not
                LibC.lseek(op.fd(), 0, Linux.SEEK_END);
            }
        } else if (position >= 0) {
            LibC.lseek(op.fd(), position + transferred, Linux.SEEK_SET);
        }
    }

    private void writeCancel(long base, long target) {
        ring.writeSqe(base, OP_ASYNC_CANCEL, -1, 0, target, 0, 0, CANCEL);
    }

    /** Native iovec room for slot {@code index}; it lives as long as the reactor's memory. */
    private MemorySegment iovecsFor(int index, int count) {
        if (index >= iovecs.length) {
            iovecs = java.util.Arrays.copyOf(iovecs, Math.max(index + 1, iovecs.length * 2));
        }
        MemorySegment iov = iovecs[index];
        if (iov == null || iov.byteSize() < 16L * count) {
            iov = iovecs[index] = arena.allocate(16L * Math.max(count, 4), 8);
        }
        return iov;
    }

    private void armWakeRead() {
        long sqe = claimSqe();
        if (sqe < 0) { // the next waitForWork tries again
            LOG.log(System.Logger.Level.WARNING, "no SQE for the wake-up read; wake-ups wait for the next loop pass");
            return;
        }
        ring.writeSqe(sqe, OP_READ, eventFd, -1L, wakeReadBuffer.address(), 8, 0, WAKE_READ);
        wakeArmed = true;
    }

    private void completed(long userData, int result) {
        if (userData < 0) {
            if (userData == WAKE_READ) {
                wakeArmed = false;
                if (drain == null && !closed && !orphaned) {
                    armWakeRead();
                }
            }
            return; // CANCEL and NOP: the request's own completion; the target reports separately
        }
        IoOperation op = ops.get(userData);
        if (op == null) {
            LOG.log(System.Logger.Level.WARNING, "ignoring a completion for an unknown or stale slot: user_data {0}, result {1}",
                    Long.toHexString(userData), result);
            return;
        }
        int index = (int) userData;
        if (result == -ECANCELED && !op.isDone() && drain == null && !orphaned && ops.resubmit(index)) {
            // Nobody asked for this cancel: a cancelled future is done before its ASYNC_CANCEL is
            // written, and a drain sets drain. The SQE went to the ring from a thread that has ended
            // since, whose task work the kernel can no longer run (see the class comment): it
            // transferred nothing, so it goes to the ring again, from this thread.
            resubmissions++;
            queueSqe(op);
            return;
        }
        byte traits = ops.traits(index);
        if ((traits & OpTable.AWAITING_READINESS) != 0) {
            if (result >= 0 && !op.isDone() && drain == null && !orphaned) {
                ops.endReadinessWait(index); // ready (or hung up, or in error): the call again says which
                queueSqe(op);
                return;
            }
            result = result < 0 ? result : -ECANCELED; // the poll's failure, or a cancel that came first
        } else if (result == -EAGAIN && (traits & OpTable.STREAM) != 0 && !op.isDone() && drain == null && !orphaned
                && (op.kind() == IoOperation.Kind.READ || op.kind() == IoOperation.Kind.WRITE)) {
            // The cap on waits stops a descriptor that reports ready and answers EAGAIN from spinning
            // the loop. A wait counts only if no operation of the source moved bytes since the last
            // one began: several reads woken by one byte all retry, and the losers wait again.
            UringSource source = (UringSource) ops.owner(index);
            boolean counts = ops.readinessWaits(index) == 0 || ops.position(index) == source.progress;
            if (ops.startReadinessWait(index, counts)) {
                ops.position(index, source.progress); // a stream has no position: the slot keeps this mark
                readinessWaits++;
                queueSqe(op);
                return;
            }
        }
        if (result > 0 && (traits & OpTable.STREAM) != 0) {
            ((UringSource) ops.owner(index)).progress++;
        }
        if (result >= 0 && op.offset() == IoSource.CURRENT_POSITION && (traits & OpTable.STREAM) == 0
                && (op.kind() == IoOperation.Kind.READ || op.kind() == IoOperation.Kind.WRITE)) {
            advancePosition(op, index, result);
        }
        ops.remove(index);
        op.complete(result);
    }

    private void checkDrained() {
        if (drain != null && !drain.isDone() && ops.size() == 0 && !wakeArmed && backlog.isEmpty()) {
            drain.complete(null);
        }
    }

    /**
     * Test hook: writes one raw SQE with {@code opcode} and returns the kernel's result for it, as if
     * a caller had bypassed the reactor's API. Loop thread, with no executor loop running.
     */
    int submitRawForTest(byte opcode, int fd, long addr, int len, long off, int opFlags) {
        long sqe = claimSqe();
        ring.writeSqe(sqe, opcode, fd, off, addr, len, opFlags, NOP);
        int[] result = {Integer.MIN_VALUE};
        for (int i = 0; i < 1000 && result[0] == Integer.MIN_VALUE; i++) {
            ring.enter(true, 10_000_000L);
            ring.reap((userData, res) -> {
                if (userData == NOP) {
                    result[0] = res;
                } else {
                    completed(userData, res);
                }
            });
        }
        return result[0];
    }

    /**
     * Test hook: {@code io_uring_register(ring, opcode, NULL, 0)} straight on the ring; returns the
     * kernel's result ({@code -EACCES} for an opcode the restrictions refuse).
     */
    int registerRawForTest(int opcode) {
        return (int) LibC.syscall(SYS_REGISTER, ring.fd, opcode, 0, 0, 0, 0);
    }

    /** Test hook: hands the reactor a completion as if the kernel had posted it. Loop thread. */
    void completeForTest(long userData, int result) {
        completed(userData, result);
    }

    /** The source of a descriptor on this reactor. */
    private final class UringSource extends AbstractIoSource {
        /** Opened with {@code O_DIRECT} when registered: its reads and writes follow {@link #directSubmitBatch}. */
        final boolean direct;
        /** {@link OpTable#SOCKET} (its reads and writes of one region are {@code RECV} and {@code SEND}) and {@link OpTable#STREAM}. */
        final byte traits;
        /** Completions of this (stream) source that moved bytes; see the readiness cap in {@code completed}. Loop-confined. */
        long progress;

        UringSource(RawExecutor<?> executor, Fd fd, boolean direct, byte traits) {
            super(executor, fd);
            this.direct = direct;
            this.traits = traits;
        }

        @Override
        protected void start(IoOperation operation) {
            submit(operation, direct, traits, this);
        }

        @Override
        protected void cancel(IoOperation operation) {
            UringReactor.this.cancel(operation);
        }
    }
}
