package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import org.junit.jupiter.api.Test;

/** An operation's hold on a descriptor ends without closing it while its owner still has it. */
class FdHoldTest {

    @Test
    void releasingTheLastHoldOfAnOwnedDescriptorKeepsItOpen() throws Exception {
        try (Fd.Pipe pipe = Fd.pipe()) {
            Fd fd = pipe.readEnd();
            int number = fd.intValue();
            for (int i = 0; i < 3; i++) {
                fd.retain();
                fd.release();
            }
            assertTrue(fd.isOpen());
            assertTrue(LibC.fcntl(number, Linux.F_GETFD, 0) >= 0, "the number is still open");
            fd.retain();
            fd.close();
            assertTrue(LibC.fcntl(number, Linux.F_GETFD, 0) >= 0, "a hold keeps the number open after close()");
            fd.release();
            assertEquals(-Errno.EBADF, LibC.fcntl(number, Linux.F_GETFD, 0), "the last release after close() closes it");
        }
    }
}
