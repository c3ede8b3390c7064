package dev.ringside.reactor.uring;

import dev.ringside.executor.IoOperation;
import java.util.Arrays;

/**
 * The operations the kernel holds, by slot. An SQE's {@code user_data} names a slot and its
 * generation, never a pointer: {@code (generation << 32) | index}, always below 2^62, so the values
 * with bit 63 set stay free for the reactor's own SQEs. A completion whose generation does not match
 * the slot's is stale and is ignored. Slots are reused last-in first-out; the table grows without
 * bound, doubling.
 *
 * <p>Loop-confined: only the reactor's loop thread uses it.
 */
final class OpTable {
    /** Trait: the operation's source is a socket (its SQE is then RECV or SEND for one region). */
    static final byte SOCKET = 1;
    /**
     * Trait: the kernel answered the read or write with {@code EAGAIN}, and the slot's SQE is now a
     * {@code POLL_ADD} for the direction's readiness, after which the read or write is submitted again.
     */
    static final byte AWAITING_READINESS = 2;
    /** Trait: the operation's source is a stream (not a regular file, directory or block device): it can wait for readiness. */
    static final byte STREAM = 4;
    /** The bits above the traits count the operation's waits for readiness, up to {@link #MAX_READINESS_WAITS}. */
    private static final int WAITS_SHIFT = 3;
    /** The most waits for readiness one operation may make (see {@link UringReactor}'s class comment). */
    static final int MAX_READINESS_WAITS = 0xFF >>> WAITS_SHIFT;
    /** The most times one operation is submitted again after an {@code ECANCELED} nobody asked for. */
    static final int MAX_RESUBMISSIONS = 8;
    /** A {@link #position} meaning: a write to an {@code O_APPEND} file, which the kernel appends wherever the position is. */
    static final long APPENDING = -2;
    private IoOperation[] operations;
    /** Per slot: the source the operation belongs to (the reactor's own object, opaque here). */
    private Object[] owners;
    private int[] generations;
    /** Per slot: {@link #SOCKET}, {@link #STREAM}, {@link #AWAITING_READINESS}, and the count of waits for readiness. */
    private byte[] traits;
    /** Per slot: the times the operation was submitted again after an {@code ECANCELED} nobody asked for; see {@link #resubmit}. */
    private byte[] resubmissions;
    /**
     * Per slot, for a read or write at the current position of a file: the position its SQE names
     * explicitly, or {@link #APPENDING} for a write to an {@code O_APPEND} file; see {@link UringReactor}.
     * For a read or write on a stream, which has no position: its source's progress count when it last
     * began to wait for readiness.
     */
    private long[] positions;
    private int[] free;
    private int freeCount;
    private int size;

    OpTable(int initialCapacity) {
        operations = new IoOperation[initialCapacity];
        owners = new Object[initialCapacity];
        generations = new int[initialCapacity];
        traits = new byte[initialCapacity];
        resubmissions = new byte[initialCapacity];
        positions = new long[initialCapacity];
        free = new int[initialCapacity];
        for (int i = 0; i < initialCapacity; i++) {
            free[i] = initialCapacity - 1 - i;
        }
        freeCount = initialCapacity;
    }

    /** Stores {@code operation}, with its {@code owner} source and that source's {@code traits}, in a free slot; returns the slot's index. */
    int add(IoOperation operation, byte traits, Object owner) {
        if (freeCount == 0) {
            grow();
        }
        int index = free[--freeCount];
        operations[index] = operation;
        owners[index] = owner;
        this.traits[index] = traits;
        resubmissions[index] = 0;
        size++;
        return index;
    }

    /** The user_data of the operation in slot {@code index}: the index and the slot's generation. */
    long userData(int index) {
        return userData(index, generations[index]);
    }

    /** The operation named by {@code userData}, or null if the slot is free or of another generation. */
    IoOperation get(long userData) {
        int index = (int) userData;
        if (userData < 0 || index < 0 || index >= operations.length
                || generations[index] != (int) (userData >>> 32)) {
            return null;
        }
        return operations[index];
    }

    /** The traits of the operation in slot {@code index} (a held one). */
    byte traits(int index) {
        return traits[index];
    }

    /** The waits for readiness the operation in slot {@code index} has made (counted ones). */
    int readinessWaits(int index) {
        return (traits[index] & 0xFF) >>> WAITS_SHIFT;
    }

    /** The source of the operation in slot {@code index} (a held one). */
    Object owner(int index) {
        return owners[index];
    }

    /**
     * Sets {@link #AWAITING_READINESS} for the operation in slot {@code index}; {@code counts}: counts
     * the wait, and returns false, changing nothing, if it has made {@link #MAX_READINESS_WAITS}
     * already.
     */
    boolean startReadinessWait(int index, boolean counts) {
        int value = traits[index] & 0xFF;
        if (counts && value >>> WAITS_SHIFT == MAX_READINESS_WAITS) {
            return false;
        }
        traits[index] = (byte) ((counts ? value + (1 << WAITS_SHIFT) : value) | AWAITING_READINESS);
        return true;
    }

    /** Clears {@link #AWAITING_READINESS} for the operation in slot {@code index}: it is to be submitted again. */
    void endReadinessWait(int index) {
        traits[index] = (byte) (traits[index] & ~AWAITING_READINESS);
    }

    /**
     * Counts one more submission of the operation in slot {@code index} after an {@code ECANCELED}
     * nobody asked for (see {@link UringReactor}'s class comment); false, changing nothing, if it has
     * had {@link #MAX_RESUBMISSIONS} already.
     */
    boolean resubmit(int index) {
        if (resubmissions[index] == MAX_RESUBMISSIONS) {
            return false;
        }
        resubmissions[index]++;
        return true;
    }

    /** Records the file position the SQE of the operation in slot {@code index} names (or {@link #APPENDING}). */
    void position(int index, long position) {
        positions[index] = position;
    }

    /** The file position recorded for the operation in slot {@code index}. */
    long position(int index) {
        return positions[index];
    }

    /** Frees slot {@code index} (one {@link #add} returned, or {@link #get} found). */
    void remove(int index) {
        operations[index] = null;
        owners[index] = null;
        generations[index] = (generations[index] + 1) & 0x3FFF_FFFF;
        free[freeCount++] = index;
        size--;
    }

    int size() {
        return size;
    }

    /** Every operation held now. */
    IoOperation[] snapshot() {
        return Arrays.stream(operations).filter(java.util.Objects::nonNull).toArray(IoOperation[]::new);
    }

    private static long userData(int index, int generation) {
        return ((long) generation << 32) | (index & 0xFFFF_FFFFL);
    }

    private void grow() {
        int old = operations.length;
        int capacity = old * 2;
        operations = Arrays.copyOf(operations, capacity);
        owners = Arrays.copyOf(owners, capacity);
        generations = Arrays.copyOf(generations, capacity);
        traits = Arrays.copyOf(traits, capacity);
        resubmissions = Arrays.copyOf(resubmissions, capacity);
        positions = Arrays.copyOf(positions, capacity);
        free = Arrays.copyOf(free, capacity);
        for (int i = capacity - 1; i >= old; i--) {
            free[freeCount++] = i;
        }
    }
}
