package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class ErrnoExceptionTest {

    @Test
    void checkPassesNonNegativeResultsThrough() throws ErrnoException {
        assertEquals(0, ErrnoException.check("close(fd 3)", 0));
        assertEquals(7, ErrnoException.check("read(fd 3)", 7));
        assertEquals(1L << 40, ErrnoException.check("lseek(fd 3)", 1L << 40));
    }

    @Test
    void aReadOfAClosedDescriptorBecomesAnEbadfException() throws Exception {
        Fd.Pipe pipe = Fd.pipe();
        int number = pipe.readEnd().intValue();
        pipe.close();
        long result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(16);
            result = LibC.read(number, buffer, 16);
        }
        assertEquals(-Errno.EBADF, result);

        String call = "read(fd " + number + ")";
        ErrnoException e = assertThrows(ErrnoException.class, () -> ErrnoException.check(call, result));
        assertEquals(call + " failed: EBADF (errno 9, Bad file descriptor)", e.getMessage());
        assertEquals(call, e.call());
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.symbol());

        ErrnoException asInt = assertThrows(ErrnoException.class, () -> ErrnoException.check("close(fd 5)", -9));
        assertEquals("close(fd 5) failed: EBADF (errno 9, Bad file descriptor)", asInt.getMessage());
    }

    @Test
    void unknownNumbersStillProduceAReadableMessage() {
        ErrnoException e = new ErrnoException("io_uring_enter", 4000);
        assertEquals("io_uring_enter failed: E4000 (errno 4000, Unknown error 4000)", e.getMessage());
        assertEquals("E4000", e.symbol());
    }

    @Test
    void errnoMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ErrnoException("read", 0));
        assertThrows(IllegalArgumentException.class, () -> new ErrnoException("read", -9));
    }
}
