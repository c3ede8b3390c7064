package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import org.junit.jupiter.api.Test;

/** An operation's hold on a descriptor, and what closes together with it. */
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

    /**
     * A number closed together with a descriptor ({@link Fd#closeTogether}) lives exactly as long as it:
     * a hold keeps both open after {@code close()}, the last release closes both. Given to a closed
     * descriptor, or a second time, it is closed at once and refused.
     */
    @Test
    void aNumberClosedTogetherWithADescriptorLivesExactlyAsLongAsIt() throws Exception {
        try (Fd.Pipe pipe = Fd.pipe(); Fd.Pipe other = Fd.pipe()) {
            Fd fd = pipe.readEnd();
            int companion = LibC.dupCloexec(other.readEnd().intValue());
            int late = LibC.dupCloexec(other.readEnd().intValue()); // taken now: a later number could reuse fd's
            assertThrows(IllegalArgumentException.class, () -> fd.closeTogether(fd.intValue()), "not itself");
            fd.closeTogether(companion);
            fd.retain();
            fd.close();
            assertTrue(LibC.fcntl(companion, Linux.F_GETFD, 0) >= 0, "a hold keeps the companion open after close()");
            fd.release();
            assertEquals(-Errno.EBADF, LibC.fcntl(fd.heldNumber(), Linux.F_GETFD, 0));
            assertEquals(-Errno.EBADF, LibC.fcntl(companion, Linux.F_GETFD, 0), "closed with the descriptor");

            assertThrows(IllegalStateException.class, () -> fd.closeTogether(late));
            assertEquals(-Errno.EBADF, LibC.fcntl(late, Linux.F_GETFD, 0), "refused by a closed descriptor: closed at once");

            Fd owner = other.writeEnd();
            owner.closeTogether(LibC.dupCloexec(other.readEnd().intValue()));
            int second = LibC.dupCloexec(other.readEnd().intValue());
            assertThrows(IllegalStateException.class, () -> owner.closeTogether(second));
            assertEquals(-Errno.EBADF, LibC.fcntl(second, Linux.F_GETFD, 0), "a second companion: closed at once");
        }
    }
}
