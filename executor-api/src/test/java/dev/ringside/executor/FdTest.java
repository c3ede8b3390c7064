package dev.ringside.executor;

import static dev.ringside.executor.OpenDescriptors.descriptorFlags;
import static dev.ringside.executor.OpenDescriptors.statusFlags;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FdTest {
    @TempDir
    Path dir;

    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofConfined();
    }

    @AfterEach
    void closeArena() {
        arena.close();
    }

    // ---- small helpers over LibC, failing the test on an error ------------------------------------

    private void write(Fd fd, String text) {
        byte[] bytes = text.getBytes(UTF_8);
        MemorySegment buffer = arena.allocate(bytes.length);
        buffer.copyFrom(MemorySegment.ofArray(bytes));
        assertEquals(bytes.length, LibC.write(fd.intValue(), buffer, bytes.length));
    }

    /**
     * Reads what is there without waiting (the descriptor is made non-blocking), so a broken test
     * fails instead of hanging: "" means end of file, {@code -EAGAIN} fails the test.
     */
    private String read(Fd fd) {
        makeNonBlocking(fd);
        MemorySegment buffer = arena.allocate(256);
        long n = LibC.read(fd.intValue(), buffer, 256);
        assertTrue(n >= 0, "read: " + (n < 0 ? Errno.symbol((int) -n) : n));
        return new String(buffer.asSlice(0, n).toArray(JAVA_BYTE), UTF_8);
    }

    private long readCounter(Fd fd) {
        MemorySegment value = arena.allocate(JAVA_LONG);
        assertEquals(8, LibC.read(fd.intValue(), value, 8));
        return value.get(JAVA_LONG, 0);
    }

    private void writeCounter(Fd fd, long add) {
        MemorySegment value = arena.allocate(JAVA_LONG);
        value.set(JAVA_LONG, 0, add);
        assertEquals(8, LibC.write(fd.intValue(), value, 8));
    }

    private static void makeNonBlocking(Fd fd) {
        int flags = statusFlags(fd.intValue());
        assertEquals(0, LibC.fcntl(fd.intValue(), Linux.F_SETFL, flags | Linux.O_NONBLOCK));
    }

    private static void assertCloseOnExec(Fd fd) {
        assertEquals(Linux.FD_CLOEXEC, descriptorFlags(fd.intValue()) & Linux.FD_CLOEXEC, fd + " is not O_CLOEXEC");
    }

    // ---- pipes, eventfds, timerfds, socketpairs -------------------------------------------------

    @Test
    void pipeRoundTrip() throws IOException {
        try (Fd.Pipe pipe = Fd.pipe()) {
            assertCloseOnExec(pipe.readEnd());
            assertCloseOnExec(pipe.writeEnd());
            assertEquals(0, statusFlags(pipe.readEnd().intValue()) & Linux.O_NONBLOCK, "blocking");
            write(pipe.writeEnd(), "through the pipe");
            assertEquals("through the pipe", read(pipe.readEnd()));
            pipe.writeEnd().close();
            assertEquals("", read(pipe.readEnd()), "end of file once the write end is closed");
        }
    }

    @Test
    void eventfdCounterAddsUpAndReadsReset() throws IOException {
        try (Fd counter = Fd.eventfd(5, false)) {
            assertCloseOnExec(counter);
            writeCounter(counter, 3);
            writeCounter(counter, 4);
            assertEquals(12, readCounter(counter));
            makeNonBlocking(counter);
            assertEquals(-Errno.EAGAIN, LibC.read(counter.intValue(), arena.allocate(8), 8), "counter is zero");
        }
        assertThrows(IllegalArgumentException.class, () -> Fd.eventfd(-1, false));
    }

    @Test
    void semaphoreEventfdHandsOutOneAtATime() throws IOException {
        try (Fd semaphore = Fd.eventfd(2, true)) {
            assertEquals(1, readCounter(semaphore));
            assertEquals(1, readCounter(semaphore));
            makeNonBlocking(semaphore);
            assertEquals(-Errno.EAGAIN, LibC.read(semaphore.intValue(), arena.allocate(8), 8));
            writeCounter(semaphore, 3);
            assertEquals(1, readCounter(semaphore));
        }
    }

    @Test
    void timerfdExpiresOnceOrPeriodically() throws IOException {
        try (Fd timer = Fd.timerfd()) {
            assertCloseOnExec(timer);
            timer.setTimer(Duration.ofMillis(1), Duration.ZERO);
            assertEquals(1, readCounter(timer), "a one-shot timer expires exactly once"); // blocks until then

            timer.setTimer(Duration.ofMillis(1), Duration.ofMillis(1));
            assertTrue(readCounter(timer) >= 1);
            assertTrue(readCounter(timer) >= 1, "an interval timer keeps expiring");

            timer.setTimer(Duration.ofHours(1), Duration.ZERO);
            timer.setTimer(Duration.ZERO, Duration.ZERO); // disarms and drops pending expirations
            makeNonBlocking(timer);
            assertEquals(-Errno.EAGAIN, LibC.read(timer.intValue(), arena.allocate(8), 8));

            assertThrows(IllegalArgumentException.class, () -> timer.setTimer(Duration.ofMillis(-1), Duration.ZERO));
        }
        try (Fd.Pipe pipe = Fd.pipe()) {
            ErrnoException e = assertThrows(ErrnoException.class,
                    () -> pipe.readEnd().setTimer(Duration.ofSeconds(1), Duration.ZERO));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().startsWith("timerfd_settime(fd "), e.getMessage());
        }
    }

    @Test
    void socketpairCarriesBytesBothWays() throws IOException {
        try (Fd.SocketPair pair = Fd.socketpair()) {
            assertCloseOnExec(pair.first());
            assertCloseOnExec(pair.second());
            write(pair.first(), "ping");
            assertEquals("ping", read(pair.second()));
            write(pair.second(), "pong");
            assertEquals("pong", read(pair.first()));
        }
    }

    // ---- ownership ------------------------------------------------------------------------------

    @Test
    @SuppressWarnings("try") // closes resources early on purpose
    void dupIsAnIndependentOwner() throws IOException {
        try (Fd.Pipe pipe = Fd.pipe(); Fd copy = pipe.writeEnd().dup()) {
            assertNotEquals(pipe.writeEnd().intValue(), copy.intValue());
            assertCloseOnExec(copy);
            pipe.writeEnd().close();
            assertTrue(copy.isOpen());
            write(copy, "still works");
            assertEquals("still works", read(pipe.readEnd()));
            copy.close();
            assertEquals("", read(pipe.readEnd()), "end of file once both write ends are closed");
        }
        Fd closed = Fd.eventfd(0, false);
        closed.close();
        assertThrows(IllegalStateException.class, closed::dup);
    }

    @Test
    void closeIsIdempotent() throws IOException {
        Fd.Pipe pipe = Fd.pipe();
        Fd writeEnd = pipe.writeEnd();
        int number = writeEnd.intValue();
        assertEquals("Fd[" + number + "]", writeEnd.toString());
        assertTrue(writeEnd.isOpen());

        writeEnd.close();
        int flagsAfterClose = descriptorFlags(number);
        assertEquals(-Errno.EBADF, flagsAfterClose);
        writeEnd.close();
        writeEnd.close();
        assertFalse(writeEnd.isOpen());
        assertEquals("Fd[closed]", writeEnd.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, writeEnd::intValue);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertEquals("", read(pipe.readEnd()), "the write end really was closed");
        pipe.close();
        pipe.close();
    }

    @Test
    void aHoldKeepsTheNumberOpenAfterCloseUntilRelease() throws IOException {
        try (Fd.Pipe pipe = Fd.pipe()) {
            Fd writeEnd = pipe.writeEnd();
            int number = writeEnd.retain();
            assertEquals(number, writeEnd.intValue());
            assertEquals(number, writeEnd.retain());
            assertEquals(2, writeEnd.holds());

            writeEnd.close();
            assertFalse(writeEnd.isOpen());
            assertThrows(IllegalStateException.class, writeEnd::intValue);
            assertTrue(descriptorFlags(number) >= 0, "held: not closed early");
            MemorySegment bytes = arena.allocateFrom("held");
            assertEquals(4, LibC.write(number, bytes, 4), "a holder can still use its number");
            assertEquals("held", read(pipe.readEnd()));

            writeEnd.release();
            assertEquals(1, writeEnd.holds());
            assertTrue(descriptorFlags(number) >= 0, "one hold left: still open");

            writeEnd.release();
            int flagsAfterLastRelease = descriptorFlags(number);
            assertEquals(-Errno.EBADF, flagsAfterLastRelease);
            assertEquals(0, writeEnd.holds());
            assertEquals("", read(pipe.readEnd()), "the last release closed the write end");
        }
    }

    @Test
    void releaseWithoutCloseLeavesTheDescriptorOpen() throws IOException {
        try (Fd fd = Fd.eventfd(0, false)) {
            fd.retain();
            fd.release();
            assertEquals(0, fd.holds());
            assertTrue(fd.isOpen());
            assertTrue(descriptorFlags(fd.intValue()) >= 0);
        }
    }

    @Test
    void retainAfterCloseAndUnmatchedReleaseAreRefused() throws IOException {
        Fd fd = Fd.eventfd(0, false);
        assertThrows(IllegalStateException.class, fd::release, "no hold outstanding");
        fd.retain();
        fd.close();
        assertThrows(IllegalStateException.class, fd::retain, "closed, even while a hold remains");
        fd.release();
        assertThrows(IllegalStateException.class, fd::retain);
        assertThrows(IllegalStateException.class, fd::release);
        assertEquals(0, fd.holds());
    }

    /** Holders on many threads racing the owner's close: the number ends closed, every hold returned. */
    @Test
    void concurrentHoldsAndCloseEndWithTheNumberClosed() throws Exception {
        for (int round = 0; round < 20; round++) {
            Fd.Pipe pipe = Fd.pipe();
            Fd writeEnd = pipe.writeEnd();
            int threads = 4;
            CountDownLatch started = new CountDownLatch(threads);
            AtomicLong holdsTaken = new AtomicLong();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            List<Thread> holders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                holders.add(Thread.ofPlatform().start(() -> {
                    started.countDown();
                    try {
                        while (true) {
                            int number;
                            try {
                                number = writeEnd.retain();
                            } catch (IllegalStateException closed) {
                                return;
                            }
                            holdsTaken.incrementAndGet();
                            // The number must stay open for as long as the hold lasts.
                            if (descriptorFlags(number) < 0) {
                                throw new AssertionError("held descriptor " + number + " was closed");
                            }
                            writeEnd.release();
                        }
                    } catch (Throwable failure) {
                        failures.add(failure);
                    }
                }));
            }
            started.await();
            // Let the holders race for a while; bounded, and yielding the CPU, so that a loaded
            // 2-core machine cannot turn this wait into a hang.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (holdsTaken.get() < 1_000 && holders.stream().allMatch(Thread::isAlive)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            writeEnd.close();
            for (Thread holder : holders) {
                holder.join();
            }
            assertEquals(List.of(), List.copyOf(failures));
            assertEquals(0, writeEnd.holds());
            assertEquals("", read(pipe.readEnd()), "write end closed after the last hold");
            pipe.close();
        }
    }

    @Test
    void adoptTakesOwnershipOfARawDescriptor() {
        MemorySegment fds = arena.allocate(8);
        assertEquals(0, LibC.pipe2(fds, Linux.O_CLOEXEC));
        Fd readEnd = Fd.adopt(fds.get(JAVA_INT, 0));
        Fd writeEnd = Fd.adopt(fds.get(JAVA_INT, 4));
        write(writeEnd, "adopted");
        writeEnd.close();
        assertEquals("adopted", read(readEnd));
        assertEquals("", read(readEnd));
        readEnd.close();
        assertThrows(IllegalArgumentException.class, () -> Fd.adopt(-1));
    }

    @Test
    void creatingAndClosingLeaksNoDescriptors() throws IOException {
        createAndCloseEveryKind(); // load classes, open jars and caches before counting
        long before = OpenDescriptors.count();

        List<Fd.Pipe> pipes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            pipes.add(Fd.pipe());
        }
        assertEquals(before + 200, OpenDescriptors.count(), "the count sees open pipes");
        pipes.forEach(Fd.Pipe::close);
        assertEquals(before, OpenDescriptors.count());

        for (int i = 0; i < 100; i++) {
            createAndCloseEveryKind();
        }
        assertEquals(before, OpenDescriptors.count());
    }

    @SuppressWarnings("try") // closes a resource early on purpose
    private void createAndCloseEveryKind() throws IOException {
        Path file = dir.resolve("leak-check");
        try (Fd.Pipe pipe = Fd.pipe();
                Fd.SocketPair pair = Fd.socketpair();
                Fd event = Fd.eventfd(0, false);
                Fd timer = Fd.timerfd();
                Fd copy = pipe.writeEnd().dup();
                Fd opened = Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            assertTrue(copy.isOpen() && pair.first().isOpen() && event.isOpen() && timer.isOpen() && opened.isOpen());
        }
        try (Fd held = Fd.eventfd(0, false)) {
            held.retain();
            held.close();
            held.release();
        }
    }

    // ---- open -----------------------------------------------------------------------------------

    @Test
    void openOfAMissingPathNamesThePathAndEnoent() {
        Path missing = dir.resolve("no-such-file");
        ErrnoException e = assertThrows(ErrnoException.class, () -> Fd.open(missing));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.symbol());
        assertEquals("open(" + missing + ")", e.call());
        assertEquals("open(" + missing + ") failed: ENOENT (errno 2, No such file or directory)", e.getMessage());
        assertThrows(ErrnoException.class, () -> Fd.open(missing, StandardOpenOption.READ, StandardOpenOption.CREATE),
                "CREATE only applies when writing");
    }

    @Test
    void openWithoutOptionsReadsOnly() throws IOException {
        Path file = Files.writeString(dir.resolve("text"), "contents");
        try (Fd fd = Fd.open(file)) {
            assertCloseOnExec(fd);
            assertEquals(Linux.O_RDONLY, statusFlags(fd.intValue()) & Linux.O_ACCMODE);
            assertEquals("contents", read(fd));
            assertEquals(-Errno.EBADF, LibC.write(fd.intValue(), arena.allocate(1), 1), "not open for writing");
        }
    }

    @Test
    void openMapsStandardOptions() throws IOException {
        Path file = dir.resolve("file");
        try (Fd fd = Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
            assertEquals(Linux.O_WRONLY, statusFlags(fd.intValue()) & Linux.O_ACCMODE);
            write(fd, "ab");
        }
        assertEquals(0, posixMode(file) & ~0644, "created with mode 0644 less the umask");
        assertEquals(0600, posixMode(file) & 0600, "the owner can read and write");
        ErrnoException exists = assertThrows(ErrnoException.class,
                () -> Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW));
        assertEquals(Errno.EEXIST, exists.errno());

        try (Fd fd = Fd.open(file, StandardOpenOption.APPEND)) {
            assertEquals(Linux.O_APPEND, statusFlags(fd.intValue()) & Linux.O_APPEND);
            write(fd, "cd");
        }
        assertEquals("abcd", Files.readString(file));

        try (Fd fd = Fd.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.DSYNC)) {
            int flags = statusFlags(fd.intValue());
            assertEquals(Linux.O_RDWR, flags & Linux.O_ACCMODE);
            assertEquals(Linux.O_DSYNC, flags & Linux.O_DSYNC);
            assertEquals("abcd", read(fd));
        }
        try (Fd fd = Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
            assertEquals(Linux.O_SYNC, statusFlags(fd.intValue()) & Linux.O_SYNC);
        }
        try (Fd fd = Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            assertEquals(Linux.O_WRONLY, statusFlags(fd.intValue()) & Linux.O_ACCMODE);
            assertEquals(0, Files.size(file));
        }
        Files.writeString(file, "kept");
        try (Fd fd = Fd.open(file, StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING)) {
            assertEquals("kept", read(fd), "TRUNCATE_EXISTING only applies when writing");
        }
    }

    private static int posixMode(Path file) throws IOException {
        int mode = 0;
        for (var permission : Files.getPosixFilePermissions(file)) {
            mode |= 1 << (8 - permission.ordinal());
        }
        return mode;
    }

    @Test
    void openMapsLinuxOptions() throws IOException {
        Path file = Files.writeString(dir.resolve("direct"), "x".repeat(4096));
        try (Fd fd = Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.NOATIME)) {
            assertEquals(Linux.O_NOATIME, statusFlags(fd.intValue()) & Linux.O_NOATIME);
        }
        Fd direct;
        try {
            direct = Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.DIRECT);
        } catch (ErrnoException e) {
            assumeFalse(e.errno() == Errno.EINVAL, "this file system has no O_DIRECT");
            throw e;
        }
        try (direct) {
            assertEquals(Linux.O_DIRECT, statusFlags(direct.intValue()) & Linux.O_DIRECT);
        }
    }

    @Test
    void unsupportedOptionsAreRefusedByName() {
        Path file = dir.resolve("never-created");
        for (var option : List.of(StandardOpenOption.SPARSE, StandardOpenOption.DELETE_ON_CLOSE,
                LinkOption.NOFOLLOW_LINKS)) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> Fd.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE, option));
            assertTrue(e.getMessage().contains(option.toString()), e.getMessage());
        }
        assertFalse(Files.exists(file), "refused before anything was opened");
    }
}
