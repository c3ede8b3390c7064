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
    private IoOperation[] operations;
    private int[] generations;
    /** Per slot: whether the operation's source is a socket (its SQE is then RECV or SEND for one region). */
    private boolean[] sockets;
    private int[] free;
    private int freeCount;
    private int size;

    OpTable(int initialCapacity) {
        operations = new IoOperation[initialCapacity];
        generations = new int[initialCapacity];
        sockets = new boolean[initialCapacity];
        free = new int[initialCapacity];
        for (int i = 0; i < initialCapacity; i++) {
            free[i] = initialCapacity - 1 - i;
        }
        freeCount = initialCapacity;
    }

    /** Stores {@code operation}, whose source is a {@code socket} or not, in a free slot; returns the slot's index. */
    int add(IoOperation operation, boolean socket) {
        if (freeCount == 0) {
            grow();
        }
        int index = free[--freeCount];
        operations[index] = operation;
        sockets[index] = socket;
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

    /** Whether the operation in slot {@code index} (a held one) is on a socket. */
    boolean onSocket(int index) {
        return sockets[index];
    }

    /** Frees slot {@code index} (one {@link #add} returned, or {@link #get} found). */
    void remove(int index) {
        operations[index] = null;
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
        generations = Arrays.copyOf(generations, capacity);
        sockets = Arrays.copyOf(sockets, capacity);
        free = Arrays.copyOf(free, capacity);
        for (int i = capacity - 1; i >= old; i--) {
            free[freeCount++] = i;
        }
    }
}
