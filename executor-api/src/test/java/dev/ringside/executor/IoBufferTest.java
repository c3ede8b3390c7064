package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class IoBufferTest {

    @Test
    void theLastReleaseFreesAndUseAfterFreeFailsClearly() {
        IoBuffer buffer = IoBuffer.allocate(64);
        MemorySegment earlier = buffer.segment();
        assertEquals(0, earlier.address() % 4096, "aligned for O_DIRECT");
        buffer.retain();
        assertEquals(2, buffer.refCount());
        buffer.close();
        earlier.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still alive: one holder left
        buffer.release();
        assertTrue(buffer.isFreed());
        IllegalStateException segment = assertThrows(IllegalStateException.class, buffer::segment);
        assertTrue(segment.getMessage().contains("already freed"), segment.getMessage());
        assertThrows(IllegalStateException.class, buffer::retain);
        assertThrows(IllegalStateException.class, buffer::release);
        assertThrows(IllegalStateException.class, () -> earlier.get(ValueLayout.JAVA_BYTE, 0),
                "a segment obtained before the free cannot reach freed memory");
    }

    /**
     * The callers' references and the operations' are counted apart: a second close() does nothing,
     * and a release beyond the callers' references fails with the memory untouched while an
     * operation's reference remains; that reference frees it.
     */
    @Test
    void aCallerCannotReleaseTheReferenceAnOperationHolds() {
        IoBuffer buffer = IoBuffer.allocate(64);
        buffer.retainForOperation();
        assertEquals(2, buffer.refCount());
        buffer.close();
        buffer.close(); // idempotent: the caller's first reference goes once
        assertEquals(1, buffer.refCount());
        IllegalStateException over = assertThrows(IllegalStateException.class, buffer::release);
        assertTrue(over.getMessage().contains("1 operation(s) still hold"), over.getMessage());
        assertFalse(buffer.isFreed(), "the operation's reference keeps the memory");
        buffer.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        buffer.releaseForOperation();
        assertTrue(buffer.isFreed(), "the operation's release was the last");
        assertThrows(IllegalStateException.class, buffer::releaseForOperation);
        assertThrows(IllegalStateException.class, buffer::retainForOperation);
        buffer.close(); // still nothing
    }

    @Test
    void copiesAndArguments() {
        try (IoBuffer buffer = IoBuffer.copyOf(new byte[] {1, 2, 3})) {
            assertArrayEquals(new byte[] {2, 3}, buffer.toByteArray(1, 2));
            assertEquals(3, buffer.size());
        }
        assertThrows(IllegalArgumentException.class, () -> IoBuffer.allocate(-1));
        assertThrows(IllegalArgumentException.class, () -> IoBuffer.allocate(8, 3));
    }
}
