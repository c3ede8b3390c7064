package dev.ringside.executor.fake;

import java.util.Arrays;

/**
 * An in-memory regular file of a {@link FakeReactor}. Open it as an {@code IoSource} with
 * {@link FakeReactor#open}; each source has its own current position, as with separate
 * {@code open(2)} calls.
 *
 * <p>A fake file lives in one Java array, so it holds at most {@link #MAX_SIZE} bytes: a write that
 * starts there fails with {@code EFBIG}, one that would cross it is cut short, and a
 * {@code fallocate}, {@code punchHole} or {@code writeZeroes} whose range ends past it fails with
 * {@code EFBIG}, as a real file system reports its own limit (16 TiB on ext4).
 *
 * <p>Threads: the reactor changes the contents on the loop thread; {@link #contents()} and
 * {@link #size()} may be called from any thread (the file is its own lock).
 */
public final class FakeFile {
    /** The largest size of a fake file, in bytes. */
    public static final int MAX_SIZE = Integer.MAX_VALUE - 8;

    private byte[] data;
    private int size;

    FakeFile(byte[] initialContents) {
        this.data = initialContents.clone();
        this.size = initialContents.length;
    }

    /** A copy of the current contents. */
    public synchronized byte[] contents() {
        return Arrays.copyOf(data, size);
    }

    /** The current size in bytes. */
    public synchronized int size() {
        return size;
    }

    synchronized int read(long offset, byte[] into, int length) {
        if (offset >= size) {
            return 0;
        }
        int count = (int) Math.min(length, size - offset);
        System.arraycopy(data, (int) offset, into, 0, count);
        return count;
    }

    synchronized void write(long offset, byte[] from, int length) {
        if (length == 0) {
            return; // a write of nothing never grows the file
        }
        ensureSize(offset + length);
        System.arraycopy(from, 0, data, (int) offset, length);
    }

    synchronized void zero(long offset, long length, boolean keepSize) {
        long end = keepSize ? Math.min(size, offset + length) : offset + length;
        if (!keepSize) {
            ensureSize(end);
        }
        if (end > offset) {
            Arrays.fill(data, (int) offset, (int) end, (byte) 0);
        }
    }

    private void ensureSize(long newSize) {
        if (newSize > MAX_SIZE) { // the reactor checks first; this is a last guard
            throw new IllegalArgumentException("FakeFile: size " + newSize + " is too large for memory");
        }
        if (newSize > data.length) {
            data = Arrays.copyOf(data, (int) Math.min(MAX_SIZE, Math.max(newSize, data.length * 2L)));
        }
        size = (int) Math.max(size, newSize);
    }
}
