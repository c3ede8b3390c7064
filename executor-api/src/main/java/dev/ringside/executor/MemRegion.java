package dev.ringside.executor;

/**
 * A byte range of a {@link BackingMemory}, relative to the start of its segment: one element of a
 * scatter/gather list.
 *
 * @param offset first byte, at least 0
 * @param length number of bytes, at least 0
 */
public record MemRegion(long offset, long length) {
    public MemRegion {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("MemRegion(" + offset + ", " + length
                    + "): offset and length must not be negative");
        }
        if (offset + length < 0) {
            throw new IllegalArgumentException("MemRegion(" + offset + ", " + length + "): end overflows");
        }
    }

    /** The first byte after this region. */
    public long end() {
        return offset + length;
    }
}
