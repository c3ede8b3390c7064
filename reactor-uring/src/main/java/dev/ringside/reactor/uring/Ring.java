package dev.ringside.reactor.uring;

import static dev.ringside.reactor.uring.Uring.*;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance: its descriptor, its mapped submission and completion rings and SQE array,
 * and the raw {@code io_uring_enter} / {@code io_uring_register} calls.
 *
 * <h2>Memory ordering</h2>
 * The kernel and this class share the ring indices. The SQ tail and the CQ head are written only here,
 * with release stores, so the kernel sees every SQE (and our consumption of every CQE) before it sees
 * the index move; the SQ head and the CQ tail are written only by the kernel and read here with
 * acquire loads, so every CQE is visible before we read it. Indices run freely over 32 bits; a ring is
 * full when {@code tail - head == entries}.
 *
 * <h2>Threads</h2>
 * Not thread-safe: everything here runs on the reactor's loop thread (the reactor is driven by one
 * thread at a time). Only {@link #close()} may also run on the thread closing the executor, after the
 * loop has stopped.
 */
final class Ring {

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    final int fd;
    final int sqEntries;
    final int cqEntries;
    /** The setup flags the kernel granted. */
    final int flags;
    final int features;

    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqHead, sqTail, sqFlags, cqHead, cqTail, cqes;
    private final int sqMask, cqMask;
    private final MemorySegment getEventsArg;
    private final MemorySegment timespec;

    private int localSqTail;
    /**
     * The kernel's SQ head, read after each {@link #enter}. Without {@code SQPOLL} the kernel consumes
     * SQEs only inside {@code io_uring_enter}, so between enters this is exact, and claiming an SQE
     * or counting the unsubmitted ones touches no memory the kernel writes. Loop-confined.
     */
    private int knownSqHead;
    private int localCqHead;
    private boolean closed;
    /**
     * Whether the ring is enabled ({@code IORING_REGISTER_ENABLE_RINGS}); until then the kernel refuses
     * {@code io_uring_enter} with {@code EBADFD} and holds nothing of ours. Loop-confined.
     */
    private boolean enabled;
    /** The thread whose registered-ring table holds this ring, or null; see {@link #registerForThisThread}. */
    private Thread registeredThread;
    /** This ring's index in {@link #registeredThread}'s table. */
    private int registeredIndex;
    private final MemorySegment rsrcUpdate;
    /** io_uring_enter calls made, for the benchmarks' calls-per-operation figure. */
    long enterCalls;
    /** Reaps that skipped io_uring_enter ({@link #mayReapWithoutEnter}): in all, and since the last enter. */
    long reapsWithoutEnter;
    private int reapsSinceEnter;
    /** A reap after this many that skipped the enter enters anyway; see {@link #mayReapWithoutEnter}. */
    static final int MAX_REAPS_WITHOUT_ENTER = 256;

    private Ring(int fd, int flags, MemorySegment params, MemorySegment sqRing, MemorySegment cqRing,
                 MemorySegment sqes, Arena arena) {
        this.fd = fd;
        this.flags = flags;
        this.sqEntries = params.get(ValueLayout.JAVA_INT, P_SQ_ENTRIES);
        this.cqEntries = params.get(ValueLayout.JAVA_INT, P_CQ_ENTRIES);
        this.features = params.get(ValueLayout.JAVA_INT, P_FEATURES);
        this.sqRing = sqRing;
        this.cqRing = cqRing;
        this.sqes = sqes;
        this.sqHead = params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_HEAD);
        this.sqTail = params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_TAIL);
        this.sqFlags = params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_FLAGS);
        this.sqMask = sqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_RING_MASK));
        this.cqHead = params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQO_HEAD);
        this.cqTail = params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQO_TAIL);
        this.cqes = params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQO_CQES);
        this.cqMask = cqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQO_RING_MASK));
        // The SQ index array maps slot i to SQE i once and for all: SQEs are used in ring order.
        long array = params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_ARRAY);
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(ValueLayout.JAVA_INT, array + 4L * i, i);
        }
        this.localSqTail = (int) INT.getAcquire(sqRing, sqTail);
        this.knownSqHead = (int) INT.getAcquire(sqRing, sqHead);
        this.localCqHead = (int) INT.getAcquire(cqRing, cqHead);
        this.getEventsArg = arena.allocate(GETEVENTS_ARG_SIZE, 8);
        this.rsrcUpdate = arena.allocate(RSRC_UPDATE_SIZE, 8);
        this.timespec = arena.allocate(TIMESPEC_SIZE, 8);
        getEventsArg.set(ValueLayout.JAVA_LONG, GA_TS, timespec.address());
    }

    /**
     * Sets up a ring of {@code entries} SQEs and twice as many CQEs, asking for {@code wantedFlags} and
     * dropping, one at a time, each optional flag the kernel refuses with {@code EINVAL}; starts it
     * disabled, restricts it to {@link Uring#ALLOWED_OPS} with no SQE flags, and enables it, except a
     * ring granted {@code SINGLE_ISSUER}: the kernel binds that to the thread that enables it, so it
     * stays disabled until the thread that is to submit calls {@link #enable()}.
     *
     * @param arena memory the ring keeps for the loop (timeout arguments); the caller owns it
     */
    static Ring open(int entries, int wantedFlags, Arena arena) throws ErrnoException {
        int[] optional = {SETUP_DEFER_TASKRUN, SETUP_SINGLE_ISSUER, SETUP_TASKRUN_FLAG, SETUP_COOP_TASKRUN,
                SETUP_SUBMIT_ALL, SETUP_CQSIZE};
        int flags = wantedFlags | SETUP_CQSIZE | SETUP_R_DISABLED;
        try (Arena setup = Arena.ofConfined()) {
            MemorySegment params = setup.allocate(PARAMS_SIZE, 8);
            int fd;
            int next = 0;
            while (true) {
                params.fill((byte) 0);
                params.set(ValueLayout.JAVA_INT, P_FLAGS, flags);
                params.set(ValueLayout.JAVA_INT, P_CQ_ENTRIES, 2 * entries);
                fd = (int) LibC.syscall(SYS_SETUP, entries, params.address(), 0, 0, 0, 0);
                if (fd != -Errno.EINVAL) {
                    break;
                }
                while (next < optional.length && (flags & optional[next]) == 0) {
                    next++;
                }
                if (next == optional.length) {
                    break;
                }
                flags &= ~optional[next];
                if (optional[next] == SETUP_SINGLE_ISSUER) {
                    flags &= ~SETUP_DEFER_TASKRUN; // DEFER_TASKRUN needs SINGLE_ISSUER
                }
            }
            ErrnoException.check("io_uring_setup(" + entries + ", " + setupFlagNames(flags) + ")", fd);
            MemorySegment sqRing = null, cqRing = null, sqes = null;
            try {
                int features = params.get(ValueLayout.JAVA_INT, P_FEATURES);
                int sqCount = params.get(ValueLayout.JAVA_INT, P_SQ_ENTRIES);
                int cqCount = params.get(ValueLayout.JAVA_INT, P_CQ_ENTRIES);
                long sqSize = params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQO_ARRAY) + 4L * sqCount;
                long cqSize = params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQO_CQES) + CQE_SIZE * cqCount;
                if ((features & FEAT_SINGLE_MMAP) != 0) {
                    sqRing = cqRing = map(fd, Math.max(sqSize, cqSize), OFF_SQ_RING, "SQ and CQ rings");
                } else {
                    sqRing = map(fd, sqSize, OFF_SQ_RING, "SQ ring");
                    cqRing = map(fd, cqSize, OFF_CQ_RING, "CQ ring");
                }
                sqes = map(fd, SQE_SIZE * sqCount, OFF_SQES, "SQE array");
                restrict(fd, setup);
                Ring ring = new Ring(fd, flags & ~SETUP_R_DISABLED, params, sqRing, cqRing, sqes, arena);
                if ((flags & SETUP_SINGLE_ISSUER) == 0) {
                    ring.enable();
                }
                return ring;
            } catch (ErrnoException | RuntimeException e) {
                unmap(sqes);
                if (cqRing != sqRing) {
                    unmap(cqRing);
                }
                unmap(sqRing);
                LibC.close(fd);
                throw e;
            }
        }
    }

    private static void restrict(int fd, Arena setup) throws ErrnoException {
        int count = ALLOWED_OPS.length + ALLOWED_REGISTER_OPS.length + 1;
        MemorySegment restrictions = setup.allocate(RESTRICTION_SIZE * count, 8);
        long at = 0;
        for (byte op : ALLOWED_OPS) {
            restrictions.set(ValueLayout.JAVA_SHORT, at, RESTRICTION_SQE_OP);
            restrictions.set(ValueLayout.JAVA_BYTE, at + 2, op);
            at += RESTRICTION_SIZE;
        }
        for (int op : ALLOWED_REGISTER_OPS) {
            restrictions.set(ValueLayout.JAVA_SHORT, at, RESTRICTION_REGISTER_OP);
            restrictions.set(ValueLayout.JAVA_BYTE, at + 2, (byte) op);
            at += RESTRICTION_SIZE;
        }
        restrictions.set(ValueLayout.JAVA_SHORT, at, RESTRICTION_SQE_FLAGS_ALLOWED);
        restrictions.set(ValueLayout.JAVA_BYTE, at + 2, (byte) 0);
        ErrnoException.check("io_uring_register(IORING_REGISTER_RESTRICTIONS)",
                LibC.syscall(SYS_REGISTER, fd, REGISTER_RESTRICTIONS, restrictions.address(), count, 0, 0));
    }

    private static MemorySegment map(int fd, long size, long offset, String what) throws ErrnoException {
        long address = LibC.mmap(0, size, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED | Linux.MAP_POPULATE,
                fd, offset);
        ErrnoException.check("mmap(io_uring " + what + ", " + size + " bytes)", address);
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    private static void unmap(MemorySegment segment) {
        if (segment != null) {
            LibC.munmap(segment.address(), segment.byteSize());
        }
    }

    /**
     * Enables the ring. With {@code SINGLE_ISSUER} the kernel makes the calling thread the only one
     * that may submit to it or register with it from now on, and with {@code DEFER_TASKRUN} the only
     * one that may wait on it ({@code EEXIST} for any other), for the ring's whole life.
     */
    void enable() throws ErrnoException {
        ErrnoException.check("io_uring_register(IORING_REGISTER_ENABLE_RINGS)",
                LibC.syscall(SYS_REGISTER, fd, REGISTER_ENABLE_RINGS, 0, 0, 0, 0));
        enabled = true;
    }

    /** Whether {@link #enable()} ran; the kernel has consumed no SQE of a ring never enabled. */
    boolean isEnabled() {
        return enabled;
    }

    /** Free SQEs. */
    int sqSpace() {
        return sqEntries - (localSqTail - knownSqHead);
    }

    /**
     * Claims the next SQE and returns its byte offset in the SQE array, for {@link #writeSqe}; -1 when
     * the SQ is full (flush with {@link #enter} and try again). The SQE holds whatever it held before:
     * {@link #writeSqe} writes all of it.
     */
    long nextSqe() {
        if (sqSpace() == 0) {
            return -1;
        }
        long base = SQE_SIZE * (localSqTail & sqMask);
        localSqTail++;
        return base;
    }

    /**
     * Writes the whole 64-byte SQE at {@code base} (from {@link #nextSqe}) in eight stores: the given
     * fields, and zero in every other one ({@code flags}, {@code ioprio}, {@code buf_index},
     * {@code personality}, {@code splice_fd_in}, {@code addr3}), as the kernel requires of the fields an
     * opcode does not use. Little-endian, as both supported architectures are.
     */
    void writeSqe(long base, byte opcode, int fd, long off, long addr, int len, int opFlags, long userData) {
        // opcode at SQE_OPCODE (0), flags and ioprio 0, fd at SQE_FD (4)
        sqes.set(ValueLayout.JAVA_LONG, base, (opcode & 0xFFL) | ((long) fd << (8 * SQE_FD)));
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_OFF, off);
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_ADDR, addr);
        // len at SQE_LEN (24), op_flags at SQE_OP_FLAGS (28)
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_LEN, (len & 0xFFFF_FFFFL) | ((long) opFlags << 32));
        sqes.set(ValueLayout.JAVA_LONG, base + SQE_USER_DATA, userData);
        sqes.set(ValueLayout.JAVA_LONG, base + 40, 0L); // buf_index, personality, splice_fd_in
        sqes.set(ValueLayout.JAVA_LONG, base + 48, 0L); // addr3
        sqes.set(ValueLayout.JAVA_LONG, base + 56, 0L);
    }

    /** SQEs written and not yet consumed by the kernel. */
    int unsubmitted() {
        return localSqTail - knownSqHead;
    }

    /** Whether completions are waiting in the CQ. */
    boolean completionsReady() {
        return localCqHead != (int) INT.getAcquire(cqRing, cqTail);
    }

    /**
     * Whether a non-blocking reap may skip {@code io_uring_enter} this time, reading the CQ from
     * shared memory only (and entering if {@link #kernelNeedsEnter()} says so): nothing is waiting to
     * be submitted, and the ring was granted {@code TASKRUN_FLAG} without {@code DEFER_TASKRUN} (whose
     * deferred work only an enter that asks for completions runs), so the kernel raises
     * {@code SQ_TASKRUN} when it queues task work for the loop. It raises it only when the thread's
     * task-work list goes from empty to non-empty, though, and that list is the thread's, not the
     * ring's: a thread that also drives another ring can have this ring's work queued behind the other's
     * without the flag. So after {@link #MAX_REAPS_WITHOUT_ENTER} skipped enters the next reap enters
     * anyway, which bounds the delay to a few microseconds of polling instead of the next timer tick.
     */
    boolean mayReapWithoutEnter() {
        if ((flags & SETUP_TASKRUN_FLAG) == 0 || (flags & SETUP_DEFER_TASKRUN) != 0 || unsubmitted() != 0
                || reapsSinceEnter >= MAX_REAPS_WITHOUT_ENTER) {
            return false;
        }
        reapsSinceEnter++;
        reapsWithoutEnter++;
        return true;
    }

    /** Whether the kernel holds completions that did not fit the CQ, or task work needs an enter. */
    boolean kernelNeedsEnter() {
        return ((int) INT.getAcquire(sqRing, sqFlags) & (SQ_CQ_OVERFLOW | SQ_TASKRUN)) != 0;
    }

    /**
     * Publishes the SQ tail and calls {@code io_uring_enter}: submits every unconsumed SQE and, with
     * {@code wait}, waits for at least one completion or until {@code timeoutNanos} (relative; negative
     * means no timeout). Returns the kernel's result: SQEs consumed, or {@code -errno}
     * ({@code -ETIME} when the timeout expired, {@code -EINTR} on a signal).
     */
    int enter(boolean wait, long timeoutNanos) {
        INT.setRelease(sqRing, sqTail, localSqTail);
        int toSubmit = unsubmitted();
        int enterFlags = ENTER_GETEVENTS;
        long arg = 0, argSize = 0;
        if (wait && timeoutNanos >= 0) {
            timespec.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            timespec.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            enterFlags |= ENTER_EXT_ARG;
            arg = getEventsArg.address();
            argSize = GETEVENTS_ARG_SIZE;
        }
        int target = fd;
        if (registeredThread == Thread.currentThread()) {
            target = registeredIndex;
            enterFlags |= ENTER_REGISTERED_RING;
        }
        enterCalls++;
        reapsSinceEnter = 0;
        int result = (int) LibC.syscall(SYS_ENTER, target, toSubmit, wait ? 1 : 0, enterFlags, arg, argSize);
        knownSqHead = (int) INT.getAcquire(sqRing, sqHead); // what this enter consumed, even if it failed
        return result;
    }

    /**
     * Registers the ring's descriptor in the calling thread's table of registered rings
     * ({@code IORING_REGISTER_RING_FDS}), so that this thread's {@link #enter} calls skip the
     * descriptor lookup, which in a multithreaded process such as the JVM takes and drops a reference
     * on the file each time. The table is per thread and small (16 rings): when it is full, or the
     * kernel predates it, the ring is simply used by its descriptor. A virtual thread is never
     * registered: the table is that of the carrier it happens to be mounted on. One thread at a time: a
     * registration of another thread must be dropped first ({@link #unregister()}).
     *
     * @return 0, or {@code -errno} when the ring stays unregistered
     */
    int registerForThisThread() {
        if (Thread.currentThread().isVirtual()) {
            // The table belongs to the kernel task, which for a virtual thread is whichever carrier it
            // is mounted on at the moment: an index registered on one carrier could name another ring
            // on the next. A virtual thread always enters by descriptor.
            return -Errno.EOPNOTSUPP;
        }
        if (closed || registeredThread != null) {
            return registeredThread == Thread.currentThread() ? 0 : -Errno.EBUSY;
        }
        rsrcUpdate.set(ValueLayout.JAVA_INT, RU_OFFSET, -1); // any free index
        rsrcUpdate.set(ValueLayout.JAVA_INT, RU_OFFSET + 4, 0);
        rsrcUpdate.set(ValueLayout.JAVA_LONG, RU_DATA, fd);
        int result = (int) LibC.syscall(SYS_REGISTER, fd, REGISTER_RING_FDS, rsrcUpdate.address(), 1, 0, 0);
        if (result != 1) {
            return result < 0 ? result : -Errno.EINVAL; // registered nothing
        }
        registeredIndex = rsrcUpdate.get(ValueLayout.JAVA_INT, RU_OFFSET);
        registeredThread = Thread.currentThread();
        return 0;
    }

    /**
     * Drops the registration of {@link #registerForThisThread}; must run on the registering thread (the
     * table is that thread's). Returns 0, or {@code -errno}. Does nothing without a registration.
     */
    int unregister() {
        if (registeredThread == null) {
            return 0;
        }
        if (registeredThread != Thread.currentThread()) {
            return -Errno.EPERM; // another thread's table
        }
        rsrcUpdate.set(ValueLayout.JAVA_INT, RU_OFFSET, registeredIndex);
        rsrcUpdate.set(ValueLayout.JAVA_INT, RU_OFFSET + 4, 0);
        rsrcUpdate.set(ValueLayout.JAVA_LONG, RU_DATA, 0);
        int result = (int) LibC.syscall(SYS_REGISTER, fd, UNREGISTER_RING_FDS, rsrcUpdate.address(), 1, 0, 0);
        registeredThread = null;
        return result == 1 ? 0 : result < 0 ? result : -Errno.EINVAL;
    }

    /** Whether the calling thread enters this ring through its registered index. */
    boolean isRegisteredForThisThread() {
        return registeredThread == Thread.currentThread();
    }

    /** Receives completions from {@link #reap}. */
    interface CompletionHandler {
        void completed(long userData, int result);
    }

    /** Hands every completion in the CQ to {@code handler}, in order; returns how many. */
    int reap(CompletionHandler handler) {
        int head = localCqHead;
        int tail = (int) INT.getAcquire(cqRing, cqTail);
        int count = 0;
        while (head != tail) {
            long base = cqes + CQE_SIZE * (head & cqMask);
            long userData = cqRing.get(ValueLayout.JAVA_LONG, base + CQE_USER_DATA);
            int result = cqRing.get(ValueLayout.JAVA_INT, base + CQE_RES);
            head++;
            count++;
            localCqHead = head;
            INT.setRelease(cqRing, cqHead, head); // the slot may be reused by the kernel from now on
            handler.completed(userData, result);
            if (head == tail) {
                tail = (int) INT.getAcquire(cqRing, cqTail);
            }
        }
        return count;
    }

    /** Unmaps the rings and closes the descriptor. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        unregister(); // on the registering thread; otherwise that thread dropped it already (see UringReactor)
        unmap(sqes);
        if (cqRing != sqRing) {
            unmap(cqRing);
        }
        unmap(sqRing);
        LibC.close(fd);
    }
}
