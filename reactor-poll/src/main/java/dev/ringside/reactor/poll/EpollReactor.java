package dev.ringside.reactor.poll;

import static dev.ringside.executor.linux.Linux.EPOLLERR;
import static dev.ringside.executor.linux.Linux.EPOLLHUP;
import static dev.ringside.executor.linux.Linux.EPOLLIN;
import static dev.ringside.executor.linux.Linux.EPOLLONESHOT;
import static dev.ringside.executor.linux.Linux.EPOLLOUT;
import static dev.ringside.executor.linux.Linux.EPOLLPRI;
import static dev.ringside.executor.linux.Linux.EPOLLRDBAND;
import static dev.ringside.executor.linux.Linux.EPOLLRDHUP;
import static dev.ringside.executor.linux.Linux.EPOLLRDNORM;
import static dev.ringside.executor.linux.Linux.EPOLLWRBAND;
import static dev.ringside.executor.linux.Linux.EPOLLWRNORM;
import static dev.ringside.executor.linux.Linux.EPOLL_CTL_ADD;
import static dev.ringside.executor.linux.Linux.EPOLL_CTL_DEL;
import static dev.ringside.executor.linux.Linux.EPOLL_CTL_MOD;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.ringside.executor.AbstractIoSource;
import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoOperation;
import dev.ringside.executor.IoOperation.Kind;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.ReactorFactory;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A reactor on epoll, through FFM: {@code epoll_create1}, {@code epoll_ctl}, {@code epoll_pwait2} for
 * timeouts under a second (nanoseconds), {@code epoll_wait} for the rest (no timeout, none, or one of a
 * second or more rounded up to whole milliseconds, which is within the kernel's own slack for it; and
 * for every timeout where the kernel lacks {@code epoll_pwait2}), an eventfd for wake-ups, and a bounded pool of daemon threads for the calls epoll
 * cannot wait for.
 *
 * <h2>Which operations are asynchronous</h2>
 * A descriptor is <em>pollable</em> if {@code epoll_ctl(EPOLL_CTL_ADD)} accepts it, which
 * {@link #newSource} tries once: pipes, FIFOs, sockets, eventfds, timerfds, ttys. On those,
 * {@code read}, {@code write}, {@code waitReadable} and {@code waitWritable} are truly asynchronous:
 * a write (and a read in the attempt-first state, see <em>Reads: attempt first or wait first</em>)
 * makes a non-blocking attempt, and on {@code EAGAIN} the operation waits for readiness and is
 * retried; a read in the wait-first state waits for readiness before its first attempt. While an
 * operation waits it costs no thread, and cancelling it removes it from its queue and completes it
 * with {@code ECANCELED} at once (while the executor shuts down, in the same loop pass instead; see
 * {@link #onExecutorDrop()}). An attempt that succeeds or fails at once completes the operation inside
 * {@code start}, without a wait. Everything else runs as an ordinary blocking call on the reactor's
 * pool and its result is handed back to the loop: every operation on a descriptor epoll refuses with
 * {@code EPERM} (regular files, directories, {@code /dev/null}), and {@code fsync}, {@code fdatasync}
 * and {@code fallocate} on any descriptor. A pool call cannot be stopped once it runs: cancelling it
 * fails the future at once, but the operation keeps its memory and descriptor until the call returns
 * (the kernel's hold), and completes then with whatever the kernel answered. A pool call that has not started yet is withdrawn
 * and completes with {@code ECANCELED}. {@code waitReadable}/{@code waitWritable} on a non-pollable
 * descriptor complete at once with {@code POLLIN}/{@code POLLOUT}, as {@code poll(2)} reports for
 * regular files.
 *
 * <h2>Non-blocking calls without touching the caller's flags</h2>
 * Setting {@code O_NONBLOCK} would change the open file description, which the caller may share with
 * other descriptors and processes, so this reactor never does. Per descriptor and direction it uses
 * one of these instead:
 * <ol>
 *   <li>on a socket ({@code getsockopt(SO_TYPE)} succeeds when it is registered), {@code recv}/{@code send}
 *       with {@code MSG_DONTWAIT} for one region, {@code recvmsg}/{@code sendmsg} for several; sends add
 *       {@code MSG_NOSIGNAL}. For one region these are the cheapest calls the kernel has: no iovec to
 *       import and no pass through the file read/write layer;</li>
 *   <li>on a pipe or FIFO, a <em>private description</em>: when the source is registered the reactor
 *       opens {@code /proc/self/fd/<n>} with the caller's access mode plus {@code O_NONBLOCK} and
 *       {@code O_CLOEXEC}, a new open file description of the same pipe that only the reactor uses, and
 *       reads and writes it with plain {@code read}/{@code write} ({@code readv}/{@code writev} for several
 *       regions). The vectored {@code preadv2}/{@code pwritev2} below cost about 0.1 µs more per call
 *       here (an iovec to import and the vectored file layer): about 0.4 µs per one-byte round trip of
 *       four calls, a tenth of it.
 *       The private description is closed together with the source's descriptor
 *       ({@link AbstractIoSource#closeWithDescriptor}): once the source is closed and no operation holds
 *       it. It adds a reader (or writer) to the pipe only while the source's own description is open,
 *       so no reader or writer count the caller can observe reaches zero at another time (end of file,
 *       {@code EPIPE} and {@code POLLHUP} come when they did). Its costs: a second descriptor per pipe
 *       source (counted against {@code RLIMIT_NOFILE}), and, on a named FIFO, an open and a close that
 *       inotify and fanotify watchers see. It is opened for pipes and FIFOs only (never for a device,
 *       where an open can have effects of its own, such as {@code /dev/ptmx} making a terminal), and
 *       not for a pipe in packet mode ({@code O_DIRECT}, which belongs to the writing description and
 *       which {@code open} refuses for pipes). Where it cannot be opened ({@code /proc} missing;
 *       {@code EACCES}, for a pipe of another user or a FIFO whose permissions changed;
 *       {@code EMFILE}; {@code ENXIO} for the write end of a named FIFO with no reader), the pipe uses
 *       the next form;</li>
 *   <li>on anything else, {@code preadv2}/{@code pwritev2} with {@code RWF_NOWAIT}: a per-call
 *       non-blocking flag, honoured by pipes, eventfd reads and timerfd reads on current kernels
 *       (vectored calls, as there is no plain {@code read} with a per-call flag); on
 *       {@code EOPNOTSUPP} the socket calls are tried in case it is a socket after all;</li>
 *   <li>on {@code ENOTSOCK}, <em>ready-then-pool</em>: the operation waits for readiness on the loop
 *       (cancellable), then the ordinary blocking call runs on the pool while the rest of that
 *       direction's queue waits behind it, so order is kept. This covers eventfd writes
 *       (the kernel has no {@code RWF_NOWAIT} for them), ttys, and pipes on old kernels that have no
 *       private description. The call
 *       finds the descriptor ready unless another reader or writer of the same file takes the
 *       readiness first, or unless readiness says less than the call needs: an eventfd is writable
 *       when a 1 would fit, so a write of a larger value that does not fit blocks. Either way a pool
 *       thread, never the loop, waits; a call already on the pool cannot be cancelled (its future
 *       fails at once, but the operation keeps its buffer and descriptor until the call returns), and
 *       a drain waits for it up to the drain deadline, then leaks it. io_uring cancels such a write.</li>
 * </ol>
 * The epoll registration is always the caller's descriptor's: readiness is the pipe's, whichever
 * description asks.
 *
 * <h2>Registrations</h2>
 * A pollable descriptor has at most one registration in the epoll set. It is level-triggered and
 * stays registered across waits: it holds the union of what the waiting operations need
 * ({@code EPOLLIN} for reads and {@code waitReadable}, {@code EPOLLOUT} for writes and
 * {@code waitWritable}), so one descriptor can wait to read and to write at the same time, plus the
 * <em>kept</em> read interest described below. Each direction has a FIFO queue of waiting
 * operations; an operation that arrives while its direction has waiters queues behind them, which
 * keeps reads and writes in order. A direction whose ready-then-pool call is on the pool has no
 * interest (its queue waits behind the call). {@code epoll_data} carries a slot index and generation,
 * never a pointer; a stale event is ignored.
 *
 * <p>The registration is reconciled once per loop pass, right before the wait, for the sources whose
 * waiters changed (the {@code dirty} list, {@link #applyInterests()}), so however many operations
 * came and went in the pass it costs at most one {@code epoll_ctl}, and none when the set of
 * interests at the time of the wait is what is registered already. The rules:
 * <ul>
 *   <li>a direction with waiters that the registration lacks is added ({@code EPOLL_CTL_ADD}, or
 *       {@code MOD} to the new union);</li>
 *   <li>the write interest is dropped at the first reconcile after the last writer left: a writable
 *       descriptor is the normal case, so a kept write interest would end the very next wait;</li>
 *   <li>the read interest is <em>kept</em> after the last reader left, because request/response
 *       traffic re-issues its read within the same pass (the completion's callback runs before the
 *       wait), and then the registration needs no call at all. It is dropped at the reconcile after an
 *       event found it with no reader (data arrived and nobody reads: one wake-up, never a spin),
 *       unless a reader came back by then; at once when the last reader is cancelled (in
 *       {@code cancel}); while the reads' ready-then-pool call is on the pool; and by the drain;</li>
 *   <li>a registration left with no waiting operation and needing a change is deleted
 *       ({@code EPOLL_CTL_DEL}), never modified, and its slot is freed.</li>
 * </ul>
 * So at every wait each registered interest either has a waiting operation, or is a kept read
 * interest that has not fired since its reader left; a level-triggered interest nobody waits for fires
 * at most once. Compared with {@code EPOLLONESHOT} registrations (which needed a {@code MOD} before every
 * wait that followed an event), steady request/response traffic makes no {@code epoll_ctl} at all.
 *
 * <p>Numbers and closing: a number closed while registered could be reused by another file, and a
 * later {@code epoll_ctl} on it would then act on that file's registration. So the loop calls
 * {@code epoll_ctl} for a source, always inside the source's {@code registrationLock}, only
 * <ul>
 *   <li>while an operation of the source holds the number (a waiter, a pool call, or a completion
 *       collected but not yet released: completions are always released after the registrations are
 *       settled); every {@code ADD} and {@code MOD} is made so, as they are made for waiters; or</li>
 *   <li>for a {@code DEL} of a source with no such operation, after reading {@code closing} false
 *       inside the lock: {@link IoSource#close()} sets {@code closing} inside the same lock before the
 *       number can be closed, so the number is open throughout the call.</li>
 * </ul>
 * {@link IoSource#close()} deletes the registration on the closing thread, inside the lock, if the
 * loop ever added one ({@code everRegistered}, set inside the lock before the first {@code ADD}). The
 * loop re-adds it for operations still waiting, and when the last of them leaves (its completion still
 * holding the number) deletes it again before it completes it. Without waiters and with
 * {@code closing} set, the loop leaves the deletion to the closing thread.
 *
 * <h2>Reads: attempt first or wait first</h2>
 * A read that finds its direction idle (no queue, no pool call) can attempt at once or wait for
 * readiness first. Attempting first is right for streaming, where data is usually there: the read
 * completes inside {@code start}. In request/response traffic the attempt returns {@code EAGAIN}
 * (the answer is not there yet), a wasted system call per read. So each pollable source chooses per
 * read, adaptively:
 * <ul>
 *   <li><em>attempt-first</em> (every source starts so): attempt; on {@code EAGAIN} queue the read and
 *       switch to wait-first, remembering the read's length and number of buffers as a shape known to
 *       wait;</li>
 *   <li><em>wait-first</em>: a read at least as long as, and with no more buffers than, a read that got
 *       {@code EAGAIN} is queued for readiness without an attempt; other reads attempt (a zero-length
 *       read, or a read the kernel refuses outright, must complete at once as before), and their
 *       {@code EAGAIN} widens the known shape. Every {@value #FIRST_PROBE}th queued read (then every
 *       16th, 32nd, ... up to every {@value #MAX_PROBE}th while probes keep failing) <em>probes</em>
 *       with an attempt instead; a probe that does not return {@code EAGAIN} (data, end of file or an
 *       error was there at once) switches back to attempt-first.</li>
 * </ul>
 * Waiting first never misses data already present: the queued read makes its direction's interest
 * wanted; the reconcile before the next wait adds it if it is missing, and both {@code ADD} and
 * {@code MOD} poll the file at once; a kept interest is level-triggered. So the next
 * {@code epoll_wait} reports the descriptor as soon as it is readable (or hung up, or in error:
 * whatever would make a read return at once), and the read is attempted then. The shape rule keeps
 * the reads that {@code read(2)} answers without waiting whatever the descriptor's state (zero length,
 * too short for an eventfd or timerfd) attempt-first. Writes always attempt first: a descriptor is
 * usually writable. Reads with the ready-then-pool strategy make no attempt in either state.
 *
 * <h2>Wake-ups</h2>
 * {@link #wake()} writes an eventfd that is registered level-triggered, at most once per burst: a flag
 * set by the first waker and cleared by the loop before it reads the eventfd. The eventfd is closed last,
 * behind a gate that waits for callers inside {@code wake()} (and for the closing threads of sources
 * and {@code newSource}, which use the epoll descriptor), so a late call never reaches a reused number.
 *
 * <h2>Draining and closing</h2>
 * {@link #onExecutorDrop()} completes every waiting operation and every pool call not yet started with
 * {@code ECANCELED}, deleting registrations first; its stage completes once the pool calls already
 * running have returned. {@link #close()} then closes the epoll descriptor and, behind the gate, the
 * eventfd, and stops the pool. If the executor's drain deadline passed, the calls still running keep
 * their operations' memory for good: those operations are never completed, so nothing frees it.
 *
 * <h2>Threads and ownership</h2>
 * The executor's loop thread, one at a time, owns the slot table, the dirty list, every source's
 * queues, registration state and read policy, the list of pool calls, the counters and the loop's
 * native scratch memory. A source's {@code closing} and {@code everRegistered} are shared with its
 * closing thread and guarded by the source's {@code registrationLock} (see <em>Registrations</em>).
 * Any thread may call {@link #wake()}, {@link #nanoTime()} and {@link #newSource}, and close a source. Pool
 * threads run the blocking calls; they use only the operation's memory (held by the operation until it
 * completes) and memory of their own, and hand results back through a concurrent queue and
 * {@code wake()}. Operations are completed only on the loop thread.
 */
public final class EpollReactor implements Reactor {

    private static final System.Logger LOG = System.getLogger("dev.ringside.reactor.poll");

    /** epoll_data of the wake-up eventfd, and of {@link #newSource}'s short-lived probe registration. */
    private static final long WAKE_DATA = -1, PROBE_DATA = -2;
    private static final int GATE_CLOSED = 1 << 30;
    private static final long EVENT_SIZE = LibC.EPOLL_EVENT.byteSize();
    private static final int MIN_EVENTS = 64, MAX_EVENTS = 4096;
    /** Timeouts from this length on are waited for with {@code epoll_wait} (see {@link #epollWait}). */
    private static final long PWAIT2_BELOW = 1_000_000_000L;
    /** {@link #attempt} result: the direction's strategy needs readiness first, then a pool call. */
    private static final long NEEDS_POOL = Long.MIN_VALUE;
    /** Wait-first reads: the first probe comes with this queued read; failed probes double the interval up to MAX_PROBE. */
    static final int FIRST_PROBE = 8, MAX_PROBE = 64;

    /** Events that concern each direction's waiters, and the revents bits a poll operation reports. */
    static final int READ_EVENTS = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
    static final int WRITE_EVENTS = EPOLLOUT | EPOLLHUP | EPOLLERR;
    private static final int READ_POLL_MASK = READ_EVENTS | EPOLLRDNORM | EPOLLRDBAND;
    private static final int WRITE_POLL_MASK = WRITE_EVENTS | EPOLLWRNORM | EPOLLWRBAND;

    static final int READ = 0, WRITE = 1;
    /** {@link IoOperation#token()} values. */
    private static final int IDLE = 0, QUEUED_READ = 1, QUEUED_WRITE = 2, ON_POOL = 3;

    private static final AtomicInteger REACTORS = new AtomicInteger();

    /** How a direction of a pollable descriptor is read or written without blocking; see the class comment. */
    enum Strategy { PRIVATE, NOWAIT, DONTWAIT, READY_THEN_POOL }

    // ---- shared with other threads --------------------------------------------------------------
    /** The loop's native memory (any thread may read {@link #wakeValue}); freed by {@link #close()}. */
    private final Arena arena = Arena.ofShared();
    private final int epollFd;
    private final int wakeFd;
    private final MemorySegment wakeValue;
    /** Threads inside {@link #wake()} or a foreign epoll_ctl, plus {@link #GATE_CLOSED} once closing. */
    private final AtomicInteger gate = new AtomicInteger();
    /** Set by the first waker of a burst, cleared by the loop before it reads the eventfd. */
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final AtomicLong wakeWrites = new AtomicLong();
    private final ThreadPoolExecutor pool;
    /** Pool calls that returned, for the loop to complete. */
    private final ConcurrentLinkedQueue<BlockingCall> finished = new ConcurrentLinkedQueue<>();
    /** Test hook: runs on the pool thread right before each blocking call. */
    volatile Consumer<IoOperation> blockingCallProbe;

    // ---- loop-confined --------------------------------------------------------------------------
    private boolean usePwait2;
    private MemorySegment events;
    private int maxEvents = MIN_EVENTS;
    private final MemorySegment timeout;
    private final MemorySegment ctlEvent;
    private final MemorySegment wakeBuffer;
    private final MemorySegment msghdr;
    private MemorySegment iovecs;
    private int iovecCapacity;
    /** Sources with waiting operations or a registration, by slot; a slot's generation counts its reuses. */
    private PollSource[] slots = new PollSource[16];
    private int[] generations = new int[16];
    private int[] freeSlots = new int[16];
    private int freeCount, slotsUsed;
    /** Sources whose registration may need a change before the next wait (see {@link #applyInterests()}). */
    private final ArrayList<PollSource> dirty = new ArrayList<>();
    private final IdentityHashMap<IoOperation, BlockingCall> onPool = new IdentityHashMap<>();
    /** Completions collected by one entry point, released at its end (see {@link #flush()}). */
    private final ArrayList<IoOperation> doneOps = new ArrayList<>();
    private long[] doneResults = new long[16];
    private int waiting, blocking;
    /** Test and measurement counters: waits, epoll_ctl calls for sources, non-blocking read/write attempts, attempts that returned EAGAIN. */
    private int waitCalls, ctlCalls, attemptCalls, wouldBlockCalls;
    /** Waits made with {@code epoll_pwait2} (test counter; see {@link #epollWait}). */
    private int pwait2Calls;
    private CompletableFuture<Void> drain;
    private boolean closed;

    /** A reactor with the default settings of {@link #builder()}. */
    public EpollReactor() throws IOException {
        this(builder());
    }

    private EpollReactor(Builder builder) throws IOException {
        Linux.requireSupportedPlatform();
        int ep = -1, wake = -1;
        try {
            ep = ErrnoException.check("epoll_create1(EPOLL_CLOEXEC)", LibC.epollCreate1(Linux.EPOLL_CLOEXEC));
            wake = ErrnoException.check("eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)",
                    LibC.eventfd(0, Linux.EFD_CLOEXEC | Linux.EFD_NONBLOCK));
            this.events = arena.allocate(EVENT_SIZE * maxEvents, 8);
            this.timeout = arena.allocate(LibC.TIMESPEC);
            this.ctlEvent = arena.allocate(LibC.EPOLL_EVENT);
            this.wakeBuffer = arena.allocate(8, 8);
            this.wakeValue = arena.allocate(8, 8);
            this.msghdr = arena.allocate(Syscalls.MSGHDR_SIZE, 8);
            this.iovecCapacity = 16;
            this.iovecs = arena.allocate(LibC.IOVEC.byteSize() * iovecCapacity, 8);
            wakeValue.set(JAVA_LONG, 0, 1L);
            ErrnoException.check("epoll_ctl(EPOLL_CTL_ADD, eventfd " + wake + ")", ctl(ep, EPOLL_CTL_ADD, wake, EPOLLIN, WAKE_DATA));
            this.usePwait2 = !builder.epollWaitOnly && probePwait2(ep);
        } catch (IOException | RuntimeException e) {
            if (wake >= 0) {
                LibC.close(wake);
            }
            if (ep >= 0) {
                LibC.close(ep);
            }
            arena.close();
            throw e;
        }
        this.epollFd = ep;
        this.wakeFd = wake;
        int number = REACTORS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(builder.blockingThreads, builder.blockingThreads, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), work -> {
                    Thread thread = new Thread(work, "ringside-epoll-" + number + "-blocking-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    private boolean probePwait2(int ep) {
        timeout.set(JAVA_LONG, 0, 0);
        timeout.set(JAVA_LONG, 8, 0);
        int result = Syscalls.epollPwait2(ep, events.address(), maxEvents, timeout.address());
        if (result == -Errno.ENOSYS || result == -Errno.EPERM) { // EPERM: seccomp profiles that predate it
            LOG.log(System.Logger.Level.DEBUG, "epoll_pwait2 unavailable ({0}); waiting with epoll_wait in whole milliseconds",
                    Errno.symbol(-result));
            return false;
        }
        return true;
    }

    /** Settings of a new reactor. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of an {@link EpollReactor}. */
    public static final class Builder {
        private int blockingThreads = 16;
        private boolean epollWaitOnly;

        private Builder() {
        }

        /**
         * Threads of the pool that runs the blocking calls (default 16): at most this many such
         * operations run at once, the others queue. The threads are daemons and stop when idle.
         */
        public Builder blockingThreads(int blockingThreads) {
            if (blockingThreads < 1) {
                throw new IllegalArgumentException("blockingThreads must be at least 1: " + blockingThreads);
            }
            this.blockingThreads = blockingThreads;
            return this;
        }

        /** Test hook: wait with {@code epoll_wait} even where {@code epoll_pwait2} exists. */
        Builder epollWaitOnly(boolean epollWaitOnly) {
            this.epollWaitOnly = epollWaitOnly;
            return this;
        }

        /** Creates the reactor. */
        public EpollReactor build() throws IOException {
            return new EpollReactor(this);
        }

        /** This builder as a factory for {@link RawExecutor#create}. */
        public ReactorFactory<EpollReactor> factory() {
            return this::build;
        }
    }

    // ---------------------------------------------------------------- availability

    /** Whether an epoll reactor can be created in this process (a real probe, cached). */
    public static boolean isAvailable() {
        return unavailabilityCause().isEmpty();
    }

    /** Why epoll cannot be used here, from the probe; empty when it can. */
    public static Optional<String> unavailabilityCause() {
        return Probe.CAUSE;
    }

    private static final class Probe {
        static final Optional<String> CAUSE = probe();

        private static Optional<String> probe() {
            try {
                new EpollReactor().close();
                return Optional.empty();
            } catch (IOException | RuntimeException | LinkageError e) {
                return Optional.of("epoll probe failed: " + e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- what it does

    /**
     * Whether timeouts shorter than a second are waited for with {@code epoll_pwait2} (nanoseconds)
     * rather than {@code epoll_wait} (whole milliseconds, rounded up) (loop thread).
     */
    public boolean usesEpollPwait2() {
        return usePwait2;
    }

    /** Operations the reactor holds now: waiting for readiness or in a blocking call (loop thread). */
    public int operationsInFlight() {
        return waiting + blocking;
    }

    // ---------------------------------------------------------------- Reactor

    @Override
    public void onThreadStart() {
    }

    @Override
    public void waitForWork(long deadlineNanos, Runnable setProcessing) throws IOException {
        applyInterests();
        long timeoutNanos;
        if (!finished.isEmpty() || !doneOps.isEmpty()) {
            timeoutNanos = 0;
        } else if (deadlineNanos == NO_DEADLINE) {
            timeoutNanos = -1;
        } else {
            timeoutNanos = Math.max(0, deadlineNanos - System.nanoTime());
        }
        int count = epollWait(timeoutNanos);
        waitCalls++;
        setProcessing.run();
        if (count < 0) {
            if (count != -Errno.EINTR) {
                throw new ErrnoException((pwait2For(timeoutNanos) ? "epoll_pwait2" : "epoll_wait") + "(fd " + epollFd + ")", -count);
            }
            count = 0;
        }
        for (int i = 0; i < count; i++) {
            long base = i * EVENT_SIZE;
            int revents = events.get(JAVA_INT, base);
            long data = events.get(JAVA_LONG_UNALIGNED, base + LibC.EPOLL_EVENT_DATA_OFFSET);
            if (data == WAKE_DATA) {
                // Drain first, then clear. A wake() that finds wakePending still set skips its write,
                // but what it queued before calling is reaped after this loop; a wake() after the clear
                // writes again. (Clearing first would let the read swallow a fresh write and leave
                // wakePending set for good: every later wake-up would be lost.)
                LibC.read(wakeFd, wakeBuffer, 8);
                wakePending.set(false);
            } else if (data >= 0) {
                int index = (int) data;
                PollSource source = index < slotsUsed ? slots[index] : null;
                if (source != null && generations[index] == (int) (data >>> 32)) {
                    ready(source, revents);
                }
            } // PROBE_DATA: newSource's probe, already deleted
        }
        if (count == maxEvents && maxEvents < MAX_EVENTS) {
            maxEvents *= 2;
            events = arena.allocate(EVENT_SIZE * maxEvents, 8);
        }
        reapBlocking();
        flush();
        checkDrained();
    }

    /**
     * One wait: {@code timeoutNanos} -1 waits without limit, 0 does not block.
     *
     * <p>{@code epoll_pwait2} is used only where its nanosecond timeout matters: for a timeout from 1 ns
     * to just under {@link #PWAIT2_BELOW}. Everything else is a cheaper {@code epoll_wait}, exact for
     * -1 and 0 and rounded up to whole milliseconds otherwise, so it may end up to 1 ms late: no later
     * than the kernel lets either call end anyway, as it gives a sleeping task a slack of 0.1% of the
     * timeout ({@code select_estimate_accuracy}), which from 1 s on is at least 1 ms.
     */
    private int epollWait(long timeoutNanos) {
        if (pwait2For(timeoutNanos)) {
            long spec = 0;
            if (timeoutNanos >= 0) {
                timeout.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
                timeout.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
                spec = timeout.address();
            }
            int result = Syscalls.epollPwait2(epollFd, events.address(), maxEvents, spec);
            if (result != -Errno.ENOSYS && result != -Errno.EPERM) {
                pwait2Calls++;
                return result;
            }
            usePwait2 = false;
        }
        // Rounded up: a wait must not end before the deadline (rounding down would spin until it).
        int millis = timeoutNanos < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(timeoutNanos, 1_000_000L));
        return LibC.epollWait(epollFd, events, maxEvents, millis);
    }

    /** Whether {@link #epollWait} waits for {@code timeoutNanos} with {@code epoll_pwait2}. */
    private boolean pwait2For(long timeoutNanos) {
        return usePwait2 && timeoutNanos > 0 && timeoutNanos < PWAIT2_BELOW;
    }

    @Override
    public void wake() {
        if (wakePending.get() || wakePending.getAndSet(true)) {
            return; // a write of this burst is on its way or not yet consumed
        }
        if (enterGate()) {
            try {
                LibC.write(wakeFd, wakeValue, 8);
                wakeWrites.incrementAndGet();
            } finally {
                exitGate();
            }
        }
    }

    /**
     * Cancels every waiting operation and every pool call that has not started (both complete with
     * {@code ECANCELED} at once, as do cancels the executor made just before); the stage completes
     * when the pool calls already running have returned too.
     */
    @Override
    public CompletionStage<Void> onExecutorDrop() {
        drain = new CompletableFuture<>();
        for (int i = 0; i < slotsUsed; i++) {
            PollSource source = slots[i];
            if (source != null) {
                boolean cancelled = cancelQueue(source, source.readers) | cancelQueue(source, source.writers);
                source.unused |= EPOLLIN; // no kept interest: the registration goes before the completions
                reconcile(source, cancelled);
                settle(source);
            }
        }
        for (BlockingCall call : new ArrayList<>(onPool.values())) {
            withdraw(call);
        }
        flush();
        checkDrained();
        return drain;
    }

    /** Completes the queue's operations with ECANCELED (collected, released by the caller's flush); returns whether there were any. */
    private boolean cancelQueue(PollSource source, ArrayDeque<IoOperation> queue) {
        boolean any = false;
        IoOperation op;
        while ((op = queue.pollFirst()) != null) {
            any = true;
            waiting--;
            op.token(IDLE);
            done(op, -Errno.ECANCELED);
        }
        return any;
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    /**
     * Wraps {@code fd}: tries {@code EPOLL_CTL_ADD} once (and deletes the probe registration at once);
     * {@code EPERM} makes a source whose operations all run on the pool, success a pollable source.
     *
     * @throws ErrnoException if epoll refuses the descriptor for another reason (e.g. {@code EBADF})
     * @throws IOException if the reactor is closed
     */
    @Override
    public IoSource newSource(RawExecutor<?> executor, Fd fd) throws IOException {
        if (executor.reactor() != this) {
            throw new IllegalArgumentException("newSource: the executor does not run this reactor");
        }
        int number = fd.intValue();
        int result;
        if (!enterGate()) {
            throw new IOException("newSource: the EpollReactor is closed");
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment event = local.allocate(LibC.EPOLL_EVENT);
            event.set(JAVA_INT, 0, EPOLLONESHOT);
            event.set(JAVA_LONG_UNALIGNED, LibC.EPOLL_EVENT_DATA_OFFSET, PROBE_DATA);
            result = LibC.epollCtl(epollFd, EPOLL_CTL_ADD, number, event);
            if (result == 0) {
                LibC.epollCtl(epollFd, EPOLL_CTL_DEL, number, MemorySegment.NULL);
            }
        } finally {
            exitGate();
        }
        if (result == -Errno.EEXIST) { // a live source of this executor has the same number (sources delete theirs at close)
            throw new IllegalArgumentException("newSource: fd " + number + " is registered with this executor already, "
                    + "through another Fd of the same number; give each descriptor one owner (Fd.dup() makes a second)");
        }
        if (result == 0) {
            boolean socket = LibC.isSocket(number);
            int privateNumber = socket ? -1 : openPrivateDescription(number);
            return new PollSource(executor, fd, number, socket, privateNumber);
        }
        if (result == -Errno.EPERM) {
            return new FileSource(executor, fd);
        }
        throw new ErrnoException("epoll_ctl(EPOLL_CTL_ADD, fd " + number + ")", -result);
    }

    /**
     * For a pipe or FIFO: a new, private open file description of the same pipe, non-blocking, through
     * {@code /proc/self/fd/<number>} with the caller's access mode; -1 for anything else, for a pipe in
     * packet mode ({@code O_DIRECT}: the mode belongs to the writing description, and {@code open}
     * refuses it for pipes), or when the open fails, in which case the source uses the per-call flag
     * instead. See <em>Non-blocking calls</em> in the class comment.
     */
    private static int openPrivateDescription(int number) {
        if (privateDescriptionsDisabledForTest || LibC.fileType(number) != Linux.S_IFIFO) {
            return -1;
        }
        int flags = LibC.fcntl(number, Linux.F_GETFL, 0);
        if (flags < 0 || (flags & Linux.O_DIRECT) != 0) {
            return -1;
        }
        String path = "/proc/self/fd/" + number;
        int opened = LibC.open(path, (flags & Linux.O_ACCMODE) | Linux.O_NONBLOCK | Linux.O_CLOEXEC, 0);
        if (opened < 0) {
            // EMFILE/ENFILE matter to the caller, whose own next open fails the same way.
            System.Logger.Level level = opened == -Errno.EMFILE || opened == -Errno.ENFILE
                    ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG;
            LOG.log(level, "open({0}, O_NONBLOCK): {1}; the pipe is read and written with RWF_NOWAIT instead",
                    path, Errno.symbol(-opened));
            return -1;
        }
        return opened;
    }

    /** Test hook: pipes use {@code RWF_NOWAIT} on the caller's description, as where {@code /proc} is missing. */
    static volatile boolean privateDescriptionsDisabledForTest;

    /**
     * Closes the gate (waiting for threads inside {@link #wake()} or a source's close), withdraws pool
     * calls that never started, stops the pool, and closes the epoll descriptor and the eventfd. Pool
     * calls still running (the drain deadline passed) keep their operations' memory, which is then
     * never released: their operations never complete. The loop's native memory is freed: pool threads
     * never use it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        gate.getAndAdd(GATE_CLOSED);
        while ((gate.get() & ~GATE_CLOSED) != 0) {
            Thread.onSpinWait();
        }
        List<Runnable> queued = new ArrayList<>();
        pool.getQueue().drainTo(queued);
        pool.shutdown();
        for (Runnable work : queued) {
            ((BlockingCall) work).tryCancel();
        }
        if (waiting + blocking > 0) {
            LOG.log(System.Logger.Level.WARNING, "epoll reactor closed with {0} operations still held ({1} in "
                    + "blocking calls); their memory and descriptors are leaked, never freed", waiting + blocking, blocking);
        }
        LibC.close(epollFd);
        LibC.close(wakeFd);
        arena.close();
    }

    @Override
    public String toString() {
        return "EpollReactor[epoll fd " + epollFd + (closed ? ", closed" : "") + "]";
    }

    // ---------------------------------------------------------------- the gate

    private boolean enterGate() {
        if ((gate.getAndIncrement() & GATE_CLOSED) != 0) {
            gate.decrementAndGet();
            return false;
        }
        return true;
    }

    private void exitGate() {
        gate.decrementAndGet();
    }

    /** Any thread, with the number still owned by the caller: removes its registration if there is one. */
    private void deleteForeign(int number) {
        if (enterGate()) {
            try {
                LibC.epollCtl(epollFd, EPOLL_CTL_DEL, number, MemorySegment.NULL); // ENOENT: none
            } finally {
                exitGate();
            }
        }
    }

    // ---------------------------------------------------------------- pollable sources

    private void start(PollSource source, IoOperation op) {
        switch (op.kind()) {
            case READ, POLL_READABLE -> startWaitable(source, op, READ);
            case WRITE, POLL_WRITABLE -> startWaitable(source, op, WRITE);
            case FSYNC, FDATASYNC, FALLOCATE -> submitBlocking(op, null, 0);
            case NOP -> done(op, 0);
        }
        flush();
    }

    private void startWaitable(PollSource source, IoOperation op, int direction) {
        boolean poll = op.kind() == Kind.POLL_READABLE || op.kind() == Kind.POLL_WRITABLE;
        // A call of nothing never waits (read(2)/write(2) answer it at once), so it does not queue
        // behind a pending read or write either.
        boolean nothing = !poll && op.length() == 0;
        if (!poll && (nothing || source.queue(direction).isEmpty() && !source.busy(direction)
                && (direction == WRITE || source.attemptRead(op)))) {
            long result = attempt(source, op, direction);
            if (direction == READ && result != NEEDS_POOL && !nothing) {
                source.readAttempted(op, result == -Errno.EAGAIN);
            }
            if (result != -Errno.EAGAIN && result != NEEDS_POOL) {
                done(op, result);
                return;
            }
        }
        source.queue(direction).addLast(op);
        op.token(direction == READ ? QUEUED_READ : QUEUED_WRITE);
        waiting++;
        if (source.slot < 0) {
            allocateSlot(source);
        }
        settle(source);
    }

    /**
     * One non-blocking read or write with the direction's strategy, falling back to the next strategy
     * when the kernel refuses one. Returns the kernel's result, or {@link #NEEDS_POOL}.
     */
    private long attempt(PollSource source, IoOperation op, int direction) {
        boolean read = direction == READ;
        while (true) {
            long result;
            switch (source.strategy(direction)) {
                case PRIVATE -> { // plain calls on the source's own non-blocking description
                    int count = op.bufferCount();
                    do {
                        attemptCalls++;
                        if (count == 1) {
                            result = read
                                    ? Syscalls.read(source.privateNumber, op.bufferAddress(0), op.bufferLength(0))
                                    : Syscalls.write(source.privateNumber, op.bufferAddress(0), op.bufferLength(0));
                        } else {
                            long iov = iovecs(op);
                            result = read
                                    ? Syscalls.readv(source.privateNumber, iov, count)
                                    : Syscalls.writev(source.privateNumber, iov, count);
                        }
                    } while (result == -Errno.EINTR);
                    if (result == -Errno.EAGAIN) {
                        wouldBlockCalls++;
                    }
                    return result;
                }
                case NOWAIT -> {
                    long iov = iovecs(op);
                    do {
                        attemptCalls++;
                        result = read
                                ? Syscalls.preadv2(op.fd(), iov, op.bufferCount(), op.offset(), Linux.RWF_NOWAIT)
                                : Syscalls.pwritev2(op.fd(), iov, op.bufferCount(), op.offset(), Linux.RWF_NOWAIT);
                    } while (result == -Errno.EINTR);
                    if (result == -Errno.EOPNOTSUPP || result == -Errno.ENOSYS) {
                        source.strategy(direction, Strategy.DONTWAIT);
                        continue;
                    }
                    if (result == -Errno.EAGAIN) {
                        wouldBlockCalls++;
                    }
                    return result;
                }
                case DONTWAIT -> {
                    if (op.offset() != IoSource.CURRENT_POSITION) { // a seekable file, so not a socket
                        source.strategy(direction, Strategy.READY_THEN_POOL);
                        continue;
                    }
                    if (read && op.length() == 0) {
                        return 0; // read(2) of nothing from a socket answers 0 at once; recv would wait for data
                    }
                    if (op.bufferCount() == 1) { // recv/send: no iovec for the kernel to copy in
                        do {
                            attemptCalls++;
                            result = read
                                    ? Syscalls.recv(op.fd(), op.bufferAddress(0), op.bufferLength(0), Linux.MSG_DONTWAIT)
                                    : Syscalls.send(op.fd(), op.bufferAddress(0), op.bufferLength(0),
                                            Linux.MSG_DONTWAIT | Linux.MSG_NOSIGNAL);
                        } while (result == -Errno.EINTR);
                    } else {
                        msghdr.fill((byte) 0);
                        msghdr.set(JAVA_LONG, Syscalls.MSGHDR_IOV, iovecs(op));
                        msghdr.set(JAVA_LONG, Syscalls.MSGHDR_IOVLEN, op.bufferCount());
                        do {
                            attemptCalls++;
                            result = read
                                    ? Syscalls.recvmsg(op.fd(), msghdr.address(), Linux.MSG_DONTWAIT)
                                    : Syscalls.sendmsg(op.fd(), msghdr.address(), Linux.MSG_DONTWAIT | Linux.MSG_NOSIGNAL);
                        } while (result == -Errno.EINTR);
                    }
                    if (result == -Errno.ENOTSOCK) {
                        source.strategy(direction, Strategy.READY_THEN_POOL);
                        continue;
                    }
                    if (result == -Errno.EAGAIN) {
                        wouldBlockCalls++;
                    }
                    return result;
                }
                default -> {
                    return NEEDS_POOL;
                }
            }
        }
    }

    /** The address of the loop's iovec array, filled with {@code op}'s buffers. */
    private long iovecs(IoOperation op) {
        int count = op.bufferCount();
        if (count > iovecCapacity) {
            iovecCapacity = Math.max(count, iovecCapacity * 2);
            iovecs = arena.allocate(LibC.IOVEC.byteSize() * iovecCapacity, 8);
        }
        for (int i = 0; i < count; i++) {
            iovecs.set(JAVA_LONG, 16L * i, op.bufferAddress(i));
            iovecs.set(JAVA_LONG, 16L * i + 8, op.bufferLength(i));
        }
        return iovecs.address();
    }

    /** Loop: the registration of {@code source} reported {@code revents} (it stays registered). */
    private void ready(PollSource source, int revents) {
        boolean changed = false;
        if ((revents & READ_EVENTS) != 0) {
            changed = readyFor(source, READ, revents & READ_POLL_MASK);
        }
        if ((revents & WRITE_EVENTS) != 0) {
            changed |= readyFor(source, WRITE, revents & WRITE_POLL_MASK);
        }
        if (changed) {
            settle(source); // the operations just served still hold the number
        }
    }

    /**
     * Serves the direction's waiters; with none (or with its pool call running), an interest of the
     * direction that is registered goes at the next reconcile. Returns whether waiters left the queue.
     */
    private boolean readyFor(PollSource source, int direction, int revents) {
        if (!source.busy(direction) && !source.queue(direction).isEmpty()) {
            return serve(source, direction, revents);
        }
        int interest = direction == READ ? EPOLLIN : EPOLLOUT;
        if ((source.armed & interest) != 0) { // level-triggered: it would fire at every wait
            source.unused |= interest;
            markDirty(source);
        }
        return false;
    }

    /** Completes the direction's waiters in order until one would block; returns whether any left the queue. */
    private boolean serve(PollSource source, int direction, int revents) {
        ArrayDeque<IoOperation> queue = source.queue(direction);
        boolean served = false;
        IoOperation op;
        while (!source.busy(direction) && (op = queue.peekFirst()) != null) {
            long result;
            if (op.kind() == Kind.POLL_READABLE || op.kind() == Kind.POLL_WRITABLE) {
                result = revents;
            } else {
                result = attempt(source, op, direction);
                if (result == -Errno.EAGAIN) {
                    return served;
                }
            }
            queue.pollFirst();
            served = true;
            waiting--;
            op.token(IDLE);
            if (result == NEEDS_POOL) {
                submitBlocking(op, source, direction);
            } else {
                done(op, result);
            }
        }
        return served;
    }

    /** The interests of the waiting operations (a direction whose pool call runs has none). */
    private static int wanted(PollSource source) {
        return (!source.readers.isEmpty() && !source.readBusy ? EPOLLIN : 0)
                | (!source.writers.isEmpty() && !source.writeBusy ? EPOLLOUT : 0);
    }

    /**
     * The interests the registration should hold at the next wait: those of the waiters, plus the read
     * interest kept from earlier waits unless an event found it unused, the last reader was cancelled,
     * or the reads' pool call runs. 0 when not registered and nothing waits.
     */
    private static int target(PollSource source) {
        int kept = source.readBusy ? 0 : source.armed & EPOLLIN & ~source.unused;
        return wanted(source) | kept;
    }

    /**
     * After a change to {@code source}'s waiters, while the operation that changed them still holds the
     * number (queued, on the pool, or its completion collected but not yet released): without waiters
     * and closing, deletes the registration at once (the closing thread may have missed it); schedules
     * a reconcile if the registration no longer matches; frees the slot once unregistered and idle.
     */
    private void settle(PollSource source) {
        if (closed) {
            return; // the epoll descriptor is gone (and its number may be reused)
        }
        if (!source.hasWaiters() && source.registered && source.closing) {
            delete(source, true);
        }
        if (target(source) != source.armed) {
            markDirty(source);
        } else if (!source.registered && !source.hasWaiters() && source.slot >= 0) {
            freeSlot(source);
        }
    }

    private void markDirty(PollSource source) {
        if (!source.dirty) {
            source.dirty = true;
            dirty.add(source);
        }
    }

    /**
     * Before each wait: reconciles the registrations of the sources whose waiters changed. Completions
     * of operations whose registration failed are released at the end, after the registrations.
     */
    private void applyInterests() {
        for (int i = 0; i < dirty.size(); i++) {
            PollSource source = dirty.get(i);
            source.dirty = false;
            if (!closed) {
                reconcile(source, false);
            }
        }
        dirty.clear();
        flush();
    }

    /**
     * Makes the registration hold {@link #target}: {@code ADD} or {@code MOD} while operations wait (they
     * hold the number), else {@code DEL} (a registration without waiters is never modified, only
     * deleted) and the slot is freed. {@code completing}: an operation of the source whose completion
     * is collected but not yet released holds the number.
     */
    private void reconcile(PollSource source, boolean completing) {
        int target = target(source);
        source.unused = 0;
        if (target == source.armed) {
            return; // registered already as the waiters need it (0 == armed also when unregistered)
        }
        if (wanted(source) == 0) {
            delete(source, completing || source.hasWaiters() || source.readBusy || source.writeBusy);
            if (!source.hasWaiters() && source.slot >= 0) {
                freeSlot(source);
            }
        } else {
            arm(source, target);
        }
    }

    /** Registers {@code source} for {@code events}, level-triggered; waiting operations hold its number. */
    private void arm(PollSource source, int events) {
        long data = ((long) generations[source.slot] << 32) | source.slot;
        int result;
        synchronized (source.registrationLock) {
            source.everRegistered = true; // before the ADD: see PollSource.close
            int op = source.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
            result = ctl(epollFd, op, source.number, events, data);
            if (result == -Errno.ENOENT && op == EPOLL_CTL_MOD) { // the source's closing thread deleted it
                result = ctl(epollFd, EPOLL_CTL_ADD, source.number, events, data);
            } else if (result == -Errno.EEXIST && op == EPOLL_CTL_ADD) {
                result = ctl(epollFd, EPOLL_CTL_MOD, source.number, events, data);
            }
        }
        if (result < 0) { // e.g. ENOSPC (max_user_watches): the waiters cannot wait
            LOG.log(System.Logger.Level.WARNING, "epoll_ctl for fd {0} failed: {1}", source.number, Errno.symbol(-result));
            source.registered = false;
            source.armed = 0;
            for (ArrayDeque<IoOperation> queue : List.of(source.readers, source.writers)) {
                IoOperation waiter;
                while ((waiter = queue.pollFirst()) != null) {
                    waiting--;
                    waiter.token(IDLE);
                    done(waiter, result);
                }
            }
            settle(source);
            return;
        }
        source.registered = true;
        source.armed = events;
    }

    /**
     * Deletes {@code source}'s registration. {@code held}: an operation of the source holds the number;
     * without one, the call is made only while {@code closing} is false inside the lock (so the number
     * is open throughout), else it is left to the closing thread, which deletes it (see the class comment).
     */
    private void delete(PollSource source, boolean held) {
        synchronized (source.registrationLock) {
            if (held || !source.closing) {
                ctlCalls++;
                LibC.epollCtl(epollFd, EPOLL_CTL_DEL, source.number, MemorySegment.NULL); // ENOENT: the closer did it
            }
        }
        source.registered = false;
        source.armed = 0;
    }

    private int ctl(int ep, int op, int fd, int eventMask, long data) {
        ctlCalls++;
        ctlEvent.set(JAVA_INT, 0, eventMask);
        ctlEvent.set(JAVA_LONG_UNALIGNED, LibC.EPOLL_EVENT_DATA_OFFSET, data);
        return LibC.epollCtl(ep, op, fd, ctlEvent);
    }

    private void cancel(PollSource source, IoOperation op) {
        int token = op.token();
        if (token == QUEUED_READ || token == QUEUED_WRITE) {
            int direction = token == QUEUED_READ ? READ : WRITE;
            ArrayDeque<IoOperation> queue = source.queue(direction);
            if (queue.remove(op)) {
                waiting--;
                op.token(IDLE);
                if (queue.isEmpty() && !closed) {
                    // The last waiter of the direction is gone: its interest goes now, not kept (op holds the number).
                    source.unused |= direction == READ ? EPOLLIN : EPOLLOUT;
                    reconcile(source, true);
                }
                settle(source);
                done(op, -Errno.ECANCELED);
            }
        } else if (token == ON_POOL) {
            BlockingCall call = onPool.get(op);
            if (call != null) {
                withdraw(call);
            }
        }
        flush();
    }

    /** Loop: the source was closed; its closing thread has deleted the registration (see PollSource.close). */
    private void sourceClosed(PollSource source) {
        if (closed) {
            return;
        }
        if (source.hasWaiters()) {
            source.armed = 0; // the registration may be gone: re-add it for the waiters (MOD, else ADD)
            markDirty(source);
        } else {
            source.registered = false;
            source.armed = 0;
            if (source.slot >= 0) {
                freeSlot(source);
            }
        }
    }

    private void allocateSlot(PollSource source) {
        int index;
        if (freeCount > 0) {
            index = freeSlots[--freeCount];
        } else {
            if (slotsUsed == slots.length) {
                slots = Arrays.copyOf(slots, slotsUsed * 2);
                generations = Arrays.copyOf(generations, slotsUsed * 2);
                freeSlots = Arrays.copyOf(freeSlots, slotsUsed * 2);
            }
            index = slotsUsed++;
        }
        slots[index] = source;
        source.slot = index;
    }

    private void freeSlot(PollSource source) {
        int index = source.slot;
        slots[index] = null;
        generations[index] = (generations[index] + 1) & Integer.MAX_VALUE;
        freeSlots[freeCount++] = index;
        source.slot = -1;
    }

    // ---------------------------------------------------------------- blocking calls

    /** Hands {@code op} to the pool; {@code gated} is the source whose direction waits for it, or null. */
    private void submitBlocking(IoOperation op, PollSource gated, int direction) {
        BlockingCall call = new BlockingCall(op, gated, direction);
        try {
            pool.execute(call);
        } catch (RejectedExecutionException e) { // only once closed
            done(op, -Errno.ECANCELED);
            return;
        }
        op.token(ON_POOL);
        onPool.put(op, call);
        blocking++;
        if (gated != null) {
            gated.busy(direction, true);
        }
    }

    /** Loop: withdraws {@code call} if it has not started; a running call completes when it returns. */
    private void withdraw(BlockingCall call) {
        if (call.tryCancel()) {
            finishBlocking(call, -Errno.ECANCELED);
        }
    }

    private void reapBlocking() {
        BlockingCall call;
        while ((call = finished.poll()) != null) {
            long result = call.result;
            PollSource gated = call.gated;
            if (gated != null && result == -Errno.EAGAIN) {
                if (!call.op.isDone() && drain == null) {
                    // Someone else took the readiness (or the caller's description is O_NONBLOCK): wait again.
                    onPool.remove(call.op);
                    blocking--;
                    gated.busy(call.direction, false);
                    gated.queue(call.direction).addFirst(call.op);
                    call.op.token(call.direction == READ ? QUEUED_READ : QUEUED_WRITE);
                    waiting++;
                    if (gated.slot < 0) {
                        allocateSlot(gated);
                    }
                    settle(gated);
                    continue;
                }
                result = -Errno.ECANCELED;
            }
            finishBlocking(call, result);
        }
    }

    private void finishBlocking(BlockingCall call, long result) {
        onPool.remove(call.op);
        blocking--;
        call.op.token(IDLE);
        if (call.gated != null) {
            call.gated.busy(call.direction, false);
            settle(call.gated);
        }
        done(call.op, result);
    }

    // ---------------------------------------------------------------- completions

    /** Collects a completion; {@link #flush()} releases it. */
    private void done(IoOperation op, long result) {
        int n = doneOps.size();
        if (n == doneResults.length) {
            doneResults = Arrays.copyOf(doneResults, n * 2);
        }
        doneOps.add(op);
        doneResults[n] = result;
    }

    /**
     * Completes the collected operations. Every entry point ends with it, after the registrations are
     * settled: completing may release the last hold on a descriptor and close its number, which must
     * not happen while the number is still in the epoll set.
     */
    private void flush() {
        for (int i = 0; i < doneOps.size(); i++) {
            try {
                doneOps.get(i).complete(doneResults[i]);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "completing " + doneOps.get(i) + " failed", e);
            }
        }
        doneOps.clear();
    }

    private void checkDrained() {
        if (drain != null && !drain.isDone() && waiting == 0 && blocking == 0) {
            drain.complete(null);
        }
    }

    // ---------------------------------------------------------------- test hooks

    /** {@code eventfd} writes made by {@link #wake()} so far. */
    long wakeWrites() {
        return wakeWrites.get();
    }

    /** Waits made so far (loop thread). */
    int waitCalls() {
        return waitCalls;
    }

    /** Waits made with {@code epoll_pwait2} so far (loop thread); the others were {@code epoll_wait}. */
    int pwait2Calls() {
        return pwait2Calls;
    }

    /** {@code epoll_ctl} calls the loop made for sources so far (loop thread; not the probes of {@link #newSource}). */
    int ctlCalls() {
        return ctlCalls;
    }

    /** Non-blocking read and write attempts made so far (loop thread). */
    int attemptCalls() {
        return attemptCalls;
    }

    /** Attempts that returned {@code EAGAIN} so far (loop thread). */
    int wouldBlockCalls() {
        return wouldBlockCalls;
    }

    /** Whether a pollable source's reads wait for readiness before attempting (no loop running). */
    static boolean readsWaitFirst(IoSource source) {
        return ((PollSource) source).readWaitFirst;
    }

    /** The epoll descriptor, to read its registrations from {@code /proc/self/fdinfo}. */
    int epollFd() {
        return epollFd;
    }

    /** Forces the strategies of a pollable source before its first operation (no loop running). */
    static void forceStrategies(IoSource source, Strategy read, Strategy write) {
        PollSource pollable = (PollSource) source;
        pollable.readStrategy = read;
        pollable.writeStrategy = write;
    }

    /** The strategies a pollable source uses now, as {@code "read/write"} (no loop running). */
    static String strategies(IoSource source) {
        PollSource pollable = (PollSource) source;
        return pollable.readStrategy + "/" + pollable.writeStrategy;
    }

    /** Whether {@code source} is a pollable source (else its operations run on the pool). */
    static boolean isPollable(IoSource source) {
        return source instanceof PollSource;
    }

    // ---------------------------------------------------------------- sources

    /**
     * The source of a pollable descriptor. Everything but {@link #closing} and {@link #everRegistered}
     * is confined to the loop thread; those two are guarded by {@link #registrationLock}, inside which
     * the loop makes every {@code epoll_ctl} for this source and {@link #close()} deletes it.
     */
    private final class PollSource extends AbstractIoSource {
        final int number;
        final ArrayDeque<IoOperation> readers = new ArrayDeque<>(4), writers = new ArrayDeque<>(4);
        Strategy readStrategy = Strategy.NOWAIT, writeStrategy = Strategy.NOWAIT;
        /** A ready-then-pool call of the direction is on the pool; its queue waits behind it. */
        boolean readBusy, writeBusy;
        int slot = -1;
        /** In the epoll set, as far as the loop knows (the closing thread may have deleted it). */
        boolean registered;
        /** The interests registered ({@code EPOLLIN}, {@code EPOLLOUT}), level-triggered; 0 when not registered. */
        int armed;
        /** Interests to drop at the next reconcile: an event found them unused, or their last waiter was cancelled. */
        int unused;
        /** In {@link #dirty}. */
        boolean dirty;
        /** Reads: wait for readiness before the first attempt (see the class comment). */
        boolean readWaitFirst;
        /** Wait-first: the shortest length and most buffers of the reads that got EAGAIN; other reads attempt. */
        long waitFirstLength;
        int waitFirstBuffers;
        /** Wait-first: queued reads left until the next probe, and the current interval between probes. */
        int readsUntilProbe, probeInterval;
        /** Guards {@link #closing} and {@link #everRegistered}; held around every epoll_ctl for this source. */
        final Object registrationLock = new Object();
        /** Set by {@link #close()} before it deletes the registration (volatile: also read by the loop outside the lock). */
        volatile boolean closing;
        /** Set by the loop before the first {@code EPOLL_CTL_ADD}; lets {@link #close()} skip a useless DEL. */
        boolean everRegistered;

        /**
         * The source's own non-blocking description of its pipe ({@link Strategy#PRIVATE}), or -1. Closed
         * together with the descriptor ({@link #closeWithDescriptor}), so it is open whenever an
         * operation of this source is.
         */
        final int privateNumber;

        /**
         * {@code socket}: calls start with {@link Strategy#DONTWAIT}; {@code privateNumber} at least 0: with
         * {@link Strategy#PRIVATE}; otherwise with {@link Strategy#NOWAIT}.
         */
        PollSource(RawExecutor<?> executor, Fd fd, int number, boolean socket, int privateNumber) {
            super(executor, fd);
            this.number = number;
            this.privateNumber = privateNumber;
            if (socket) {
                readStrategy = writeStrategy = Strategy.DONTWAIT;
            } else if (privateNumber >= 0) {
                readStrategy = writeStrategy = Strategy.PRIVATE;
                closeWithDescriptor(privateNumber);
            }
        }

        ArrayDeque<IoOperation> queue(int direction) {
            return direction == READ ? readers : writers;
        }

        boolean busy(int direction) {
            return direction == READ ? readBusy : writeBusy;
        }

        void busy(int direction, boolean busy) {
            if (direction == READ) {
                readBusy = busy;
            } else {
                writeBusy = busy;
            }
        }

        Strategy strategy(int direction) {
            return direction == READ ? readStrategy : writeStrategy;
        }

        void strategy(int direction, Strategy strategy) {
            if (direction == READ) {
                readStrategy = strategy;
            } else {
                writeStrategy = strategy;
            }
        }

        boolean hasWaiters() {
            return !readers.isEmpty() || !writers.isEmpty();
        }

        /** A wait-first read of a shape known to wait: no attempt before readiness. */
        private boolean knownToWait(IoOperation op) {
            return readWaitFirst && op.length() >= waitFirstLength && op.bufferCount() <= waitFirstBuffers;
        }

        /** Whether a read that finds its direction idle attempts at once: attempt-first, a probe, or a shape not known to wait. */
        boolean attemptRead(IoOperation op) {
            return !knownToWait(op) || --readsUntilProbe <= 0;
        }

        /** After a read's attempt from {@code start} (see {@link #attemptRead}): moves between the two states. */
        void readAttempted(IoOperation op, boolean wouldBlock) {
            if (!readWaitFirst) {
                if (wouldBlock) {
                    readWaitFirst = true;
                    waitFirstLength = op.length();
                    waitFirstBuffers = op.bufferCount();
                    probeInterval = FIRST_PROBE;
                    readsUntilProbe = FIRST_PROBE;
                }
            } else if (knownToWait(op)) { // a probe
                if (wouldBlock) {
                    probeInterval = Math.min(probeInterval * 2, MAX_PROBE);
                    readsUntilProbe = probeInterval;
                } else {
                    readWaitFirst = false; // something was there at once: attempt first again
                }
            } else if (wouldBlock) { // a shape not known to wait, that does
                waitFirstLength = Math.min(waitFirstLength, op.length());
                waitFirstBuffers = Math.max(waitFirstBuffers, op.bufferCount());
            }
        }

        @Override
        protected void start(IoOperation operation) {
            EpollReactor.this.start(this, operation);
        }

        @Override
        protected void cancel(IoOperation operation) {
            EpollReactor.this.cancel(this, operation);
        }

        @Override
        protected void closed() {
            sourceClosed(this);
        }

        /**
         * Any thread. Deletes the epoll registration while this source still owns the number, then closes
         * as {@link AbstractIoSource#close()} does. Operations in flight still complete: the loop re-adds
         * the registration for those that wait (see {@link EpollReactor} on registrations).
         */
        @Override
        public void close() {
            if (isClosed()) {
                return;
            }
            synchronized (registrationLock) {
                closing = true;
                if (everRegistered) { // else any later ADD is the loop's, made for waiters, which delete it
                    deleteForeign(number);
                }
            }
            super.close();
        }
    }

    /** The source of a descriptor epoll refuses (a regular file): every operation runs on the pool. */
    private final class FileSource extends AbstractIoSource {
        FileSource(RawExecutor<?> executor, Fd fd) {
            super(executor, fd);
        }

        @Override
        protected void start(IoOperation operation) {
            switch (operation.kind()) {
                case POLL_READABLE -> done(operation, EPOLLIN);
                case POLL_WRITABLE -> done(operation, EPOLLOUT);
                case NOP -> done(operation, 0);
                default -> submitBlocking(operation, null, 0);
            }
            flush();
        }

        @Override
        protected void cancel(IoOperation operation) {
            BlockingCall call = onPool.get(operation);
            if (call != null) {
                withdraw(call);
            }
            flush();
        }
    }

    /**
     * One blocking call on the pool. {@code state} goes from PENDING to RUNNING (the pool thread) or to
     * CANCELLED (the loop), once; {@code result} is written by the pool thread before it queues the call
     * on {@link #finished}, which publishes it to the loop.
     */
    private final class BlockingCall implements Runnable {
        private static final int PENDING = 0, RUNNING = 1, CANCELLED = 2;

        final IoOperation op;
        final PollSource gated;
        final int direction;
        private final AtomicInteger state = new AtomicInteger(PENDING);
        long result;

        BlockingCall(IoOperation op, PollSource gated, int direction) {
            this.op = op;
            this.gated = gated;
            this.direction = direction;
        }

        boolean tryCancel() {
            return state.compareAndSet(PENDING, CANCELLED);
        }

        @Override
        public void run() {
            if (!state.compareAndSet(PENDING, RUNNING)) {
                return;
            }
            try {
                Consumer<IoOperation> probe = blockingCallProbe;
                if (probe != null) {
                    probe.accept(op);
                }
                result = BlockingCalls.perform(op);
            } catch (Throwable failure) {
                LOG.log(System.Logger.Level.ERROR, "blocking call for " + op + " failed", failure);
                result = -Errno.EIO;
            } finally {
                finished.offer(this);
                wake();
            }
        }
    }
}
