package dev.ringside.executor.linux;

import static dev.ringside.executor.linux.Linux.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bindings against real descriptors: results on success, {@code -errno} on failure. */
@SuppressWarnings("restricted") // views of mmap'ed memory
class LibCTest {
    private static final long SYS_GETPID = Linux.AARCH64 ? 172 : 39;
    private static final long SYS_CLOSE = Linux.AARCH64 ? 57 : 3;

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

    private int[] pipe(int flags) {
        MemorySegment fds = arena.allocate(JAVA_INT, 2);
        assertEquals(0, LibC.pipe2(fds, flags));
        return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
    }

    private MemorySegment text(String s) {
        return arena.allocateFrom(s); // NUL-terminated; callers pass the length without it
    }

    private String readString(int fd, int max) {
        MemorySegment buffer = arena.allocate(max);
        long n = LibC.read(fd, buffer, max);
        assertTrue(n >= 0, "read failed: " + n);
        return new String(buffer.asSlice(0, n).toArray(JAVA_BYTE), UTF_8);
    }

    private static void closeAll(int... fds) {
        for (int fd : fds) {
            assertEquals(0, LibC.close(fd));
        }
    }

    @Test
    void pipeRoundTripAndCloseTwice() {
        int[] p = pipe(O_CLOEXEC);
        assertNotEquals(p[0], p[1]);
        assertEquals(5, LibC.write(p[1], text("hello"), 5));
        assertEquals("hello", readString(p[0], 64));
        assertEquals(0, LibC.close(p[1]));
        assertEquals(0, LibC.read(p[0], arena.allocate(8), 8), "end of file once the write end is closed");
        assertEquals(0, LibC.close(p[0]));
        assertEquals(-Errno.EBADF, LibC.close(p[0]));
    }

    @Test
    void failuresReturnNegativeErrno() {
        MemorySegment buffer = arena.allocate(8);
        assertEquals(-Errno.EBADF, LibC.read(-1, buffer, 8));
        assertEquals(-Errno.EBADF, LibC.write(Integer.MAX_VALUE, buffer, 8));
        assertEquals(-Errno.ENOENT, LibC.open(dir.resolve("missing").toString(), O_RDONLY | O_CLOEXEC, 0));
        assertEquals(-Errno.EBADF, LibC.fcntl(-1, F_GETFD, 0));
        int[] p = pipe(O_CLOEXEC);
        assertEquals(-Errno.ESPIPE, LibC.pread(p[0], buffer, 8, 0));
        assertEquals(-Errno.ESPIPE, LibC.lseek(p[0], 0, SEEK_SET));
        closeAll(p);
    }

    @Test
    void argumentsThatCanNeverWorkThrowBeforeTheCall() {
        MemorySegment small = arena.allocate(4);
        assertThrows(IllegalArgumentException.class, () -> LibC.read(0, small, 5));
        assertThrows(IllegalArgumentException.class, () -> LibC.write(1, small, -1));
        assertThrows(IllegalArgumentException.class, () -> LibC.readv(0, small, 1));
        assertThrows(IllegalArgumentException.class, () -> LibC.pipe2(small, 0));
        assertThrows(IllegalArgumentException.class, () -> LibC.open("a\0b", O_RDONLY, 0));
        // The FFM runtime refuses heap memory for a downcall that is not critical.
        assertThrows(IllegalArgumentException.class,
                () -> LibC.write(1, MemorySegment.ofArray(new byte[4]), 4));
    }

    @Test
    void scatterGatherOnAPipe() {
        int[] p = pipe(O_CLOEXEC);
        MemorySegment iovecs = arena.allocate(LibC.IOVEC, 2);
        MemorySegment first = text("ring"), second = text("side");
        setIovec(iovecs, 0, first, 4);
        setIovec(iovecs, 1, second, 4);
        assertEquals(8, LibC.writev(p[1], iovecs, 2));

        MemorySegment a = arena.allocate(3), b = arena.allocate(5);
        setIovec(iovecs, 0, a, 3);
        setIovec(iovecs, 1, b, 5);
        assertEquals(8, LibC.readv(p[0], iovecs, 2));
        assertEquals("rin", new String(a.toArray(JAVA_BYTE), UTF_8));
        assertEquals("gside", new String(b.toArray(JAVA_BYTE), UTF_8));
        closeAll(p);
    }

    private static void setIovec(MemorySegment iovecs, int index, MemorySegment buffer, long length) {
        MemorySegment entry = iovecs.asSlice(index * LibC.IOVEC.byteSize(), LibC.IOVEC.byteSize());
        entry.set(JAVA_LONG, 0, buffer.address());
        entry.set(JAVA_LONG, 8, length);
    }

    @Test
    void positionalIoAndFileCalls() throws IOException {
        Path file = dir.resolve("data");
        int fd = LibC.open(file.toString(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assertTrue(fd >= 0, "open: " + fd);
        assertEquals(-Errno.EEXIST, LibC.open(file.toString(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));

        assertEquals(5, LibC.pwrite(fd, text("hello"), 5, 100));
        assertEquals(105, LibC.lseek(fd, 0, SEEK_END));
        MemorySegment buffer = arena.allocate(5);
        assertEquals(5, LibC.pread(fd, buffer, 5, 100));
        assertEquals("hello", new String(buffer.toArray(JAVA_BYTE), UTF_8));

        MemorySegment iovecs = arena.allocate(LibC.IOVEC, 2);
        setIovec(iovecs, 0, text("ab"), 2);
        setIovec(iovecs, 1, text("cd"), 2);
        assertEquals(4, LibC.pwritev(fd, iovecs, 2, 10));
        MemorySegment four = arena.allocate(4);
        setIovec(iovecs, 0, four, 4);
        assertEquals(4, LibC.preadv(fd, iovecs, 1, 10));
        assertEquals("abcd", new String(four.toArray(JAVA_BYTE), UTF_8));

        assertEquals(0, LibC.fsync(fd));
        assertEquals(0, LibC.fdatasync(fd));
        assertEquals(0, LibC.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5));
        assertEquals(5, LibC.pread(fd, buffer, 5, 100));
        assertArrayEquals(new byte[5], buffer.toArray(JAVA_BYTE), "a punched hole reads as zeroes");
        assertEquals(105, Files.size(file));
        assertEquals(0, LibC.fallocate(fd, 0, 0, 4096));
        assertEquals(4096, Files.size(file));
        assertEquals(0, LibC.ftruncate(fd, 12));
        assertEquals(12, Files.size(file));
        assertEquals(-Errno.EINVAL, LibC.ftruncate(fd, -1));
        assertEquals(0, LibC.close(fd));
    }

    @Test
    void fcntlReadsAndChangesFlags() {
        int[] p = pipe(O_CLOEXEC);
        assertEquals(FD_CLOEXEC, LibC.fcntl(p[0], F_GETFD, 0) & FD_CLOEXEC);
        int status = LibC.fcntl(p[0], F_GETFL, 0);
        assertEquals(0, status & O_NONBLOCK);
        assertEquals(0, LibC.fcntl(p[0], F_SETFL, status | O_NONBLOCK));
        assertEquals(O_NONBLOCK, LibC.fcntl(p[0], F_GETFL, 0) & O_NONBLOCK);
        assertEquals(-Errno.EAGAIN, LibC.read(p[0], arena.allocate(1), 1), "empty non-blocking pipe");

        int copy = LibC.dupCloexec(p[1]);
        assertTrue(copy >= 0 && copy != p[1], "dup: " + copy);
        assertEquals(FD_CLOEXEC, LibC.fcntl(copy, F_GETFD, 0) & FD_CLOEXEC);
        closeAll(p[0], p[1], copy);
    }

    @Test
    void eventfdAddsWritesAndReadsTheWholeCounter() {
        int fd = LibC.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        assertTrue(fd >= 0);
        MemorySegment value = arena.allocate(JAVA_LONG);
        assertEquals(-Errno.EAGAIN, LibC.read(fd, value, 8));
        value.set(JAVA_LONG, 0, 3);
        assertEquals(8, LibC.write(fd, value, 8));
        value.set(JAVA_LONG, 0, 4);
        assertEquals(8, LibC.write(fd, value, 8));
        assertEquals(8, LibC.read(fd, value, 8));
        assertEquals(7, value.get(JAVA_LONG, 0));
        assertEquals(-Errno.EAGAIN, LibC.read(fd, value, 8));
        assertEquals(-Errno.EINVAL, LibC.read(fd, value, 4), "eventfd reads need 8 bytes");
        closeAll(fd);
    }

    @Test
    void semaphoreEventfdReadsOneAtATime() {
        int fd = LibC.eventfd(2, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
        MemorySegment value = arena.allocate(JAVA_LONG);
        for (int i = 0; i < 2; i++) {
            assertEquals(8, LibC.read(fd, value, 8));
            assertEquals(1, value.get(JAVA_LONG, 0));
        }
        assertEquals(-Errno.EAGAIN, LibC.read(fd, value, 8));
        closeAll(fd);
    }

    @Test
    void timerfdExpires() {
        int fd = LibC.timerfdCreate(CLOCK_MONOTONIC, TFD_CLOEXEC);
        assertTrue(fd >= 0);
        MemorySegment spec = arena.allocate(LibC.ITIMERSPEC); // zero interval: one shot
        spec.set(JAVA_LONG, 24, 1_000_000); // it_value.tv_nsec = 1 ms
        assertEquals(0, LibC.timerfdSettime(fd, 0, spec, MemorySegment.NULL));
        MemorySegment expirations = arena.allocate(JAVA_LONG);
        assertEquals(8, LibC.read(fd, expirations, 8)); // blocks until the expiry
        assertEquals(1, expirations.get(JAVA_LONG, 0));

        MemorySegment old = arena.allocate(LibC.ITIMERSPEC);
        spec.set(JAVA_LONG, 24, 0); // disarm
        assertEquals(0, LibC.timerfdSettime(fd, 0, spec, old));
        spec.set(JAVA_LONG, 24, -1);
        assertEquals(-Errno.EINVAL, LibC.timerfdSettime(fd, 0, spec, MemorySegment.NULL));
        closeAll(fd);
    }

    @Test
    void socketpairCarriesBytesBothWays() {
        MemorySegment fds = arena.allocate(JAVA_INT, 2);
        assertEquals(0, LibC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        int a = fds.getAtIndex(JAVA_INT, 0), b = fds.getAtIndex(JAVA_INT, 1);
        assertEquals(-Errno.EAGAIN, LibC.recv(a, arena.allocate(4), 4, MSG_DONTWAIT));
        assertEquals(4, LibC.write(a, text("ping"), 4));
        assertEquals("ping", readString(b, 16));
        assertEquals(4, LibC.send(b, text("pong"), 4, MSG_NOSIGNAL));
        MemorySegment buffer = arena.allocate(16);
        assertEquals(4, LibC.recv(a, buffer, 16, 0));
        assertEquals("pong", buffer.getString(0, UTF_8)); // the rest of the buffer is still zero
        assertEquals(0, LibC.shutdown(a, SHUT_WR));
        assertEquals(0, LibC.read(b, buffer, 16), "end of stream after shutdown");
        int[] p = pipe(O_CLOEXEC);
        assertEquals(-Errno.ENOTSOCK, LibC.shutdown(p[0], SHUT_RD));
        assertTrue(LibC.isSocket(a) && LibC.isSocket(b), "both ends of a socketpair are sockets");
        assertFalse(LibC.isSocket(p[0]) || LibC.isSocket(p[1]), "a pipe is not a socket");
        closeAll(a, b, p[0], p[1]);
    }

    @Test
    void fileTypeTellsRegularFilesDirectoriesAndStreamsApart() throws IOException {
        Path file = Files.write(dir.resolve("typed"), new byte[] {1});
        int regular = LibC.open(arena.allocateFrom(file.toString()), O_RDONLY | O_CLOEXEC, 0);
        int directory = LibC.open(arena.allocateFrom(dir.toString()), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        int[] p = pipe(O_CLOEXEC);
        int event = LibC.eventfd(0, EFD_CLOEXEC);
        assertEquals(S_IFREG, LibC.fileType(regular));
        assertEquals(S_IFDIR, LibC.fileType(directory));
        assertEquals(0010000, LibC.fileType(p[0]), "S_IFIFO");
        int eventType = LibC.fileType(event);
        assertTrue(eventType >= 0 && eventType != S_IFREG && eventType != S_IFDIR && eventType != S_IFBLK,
                "an eventfd is none of the three: " + Integer.toOctalString(eventType));
        closeAll(regular, directory, p[0], p[1], event);
        assertEquals(-Errno.EBADF, LibC.fileType(event), "a closed number");
    }

    @Test
    void mmapAnonymousAndFileMappings() throws IOException {
        long address = LibC.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertTrue(address > 0, "mmap: " + address);
        MemorySegment mapped = MemorySegment.ofAddress(address).reinterpret(4096);
        assertEquals(0, mapped.get(JAVA_LONG, 4088), "anonymous memory starts zeroed");
        mapped.set(JAVA_LONG, 4088, 42);
        assertEquals(42, mapped.get(JAVA_LONG, 4088));
        assertEquals(0, LibC.munmap(address, 4096));

        Path file = Files.writeString(dir.resolve("mapped"), "mapped text");
        int fd = LibC.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        long view = LibC.mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
        assertTrue(view > 0, "mmap: " + view);
        // The page past the end of the file reads as zeroes, so the text is NUL-terminated.
        assertEquals("mapped text", MemorySegment.ofAddress(view).reinterpret(4096).getString(0, UTF_8));
        assertEquals(0, LibC.munmap(view, 4096));
        assertEquals(-Errno.EINVAL, LibC.mmap(0, 0, PROT_READ, MAP_SHARED, fd, 0), "zero length");
        assertEquals(-Errno.EBADF, LibC.mmap(0, 4096, PROT_READ, MAP_SHARED, -1, 0));
        closeAll(fd);
    }

    @Test
    void epollReportsAReadyEventfdWithItsData() {
        int epfd = LibC.epollCreate1(EPOLL_CLOEXEC);
        int efd = LibC.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        assertTrue(epfd >= 0 && efd >= 0);
        MemorySegment event = arena.allocate(LibC.EPOLL_EVENT);
        event.set(JAVA_INT, 0, EPOLLIN);
        event.set(JAVA_LONG.withByteAlignment(1), LibC.EPOLL_EVENT_DATA_OFFSET, 0x1234_5678_9AL);
        assertEquals(0, LibC.epollCtl(epfd, EPOLL_CTL_ADD, efd, event));
        assertEquals(-Errno.EEXIST, LibC.epollCtl(epfd, EPOLL_CTL_ADD, efd, event));

        MemorySegment events = arena.allocate(LibC.EPOLL_EVENT, 4);
        assertEquals(0, LibC.epollWait(epfd, events, 4, 0), "nothing ready yet");
        MemorySegment one = arena.allocate(JAVA_LONG);
        one.set(JAVA_LONG, 0, 1);
        assertEquals(8, LibC.write(efd, one, 8));
        assertEquals(1, LibC.epollWait(epfd, events, 4, -1));
        assertEquals(EPOLLIN, events.get(JAVA_INT, 0) & EPOLLIN);
        assertEquals(0x1234_5678_9AL, events.get(JAVA_LONG.withByteAlignment(1), LibC.EPOLL_EVENT_DATA_OFFSET));

        assertEquals(0, LibC.epollCtl(epfd, EPOLL_CTL_DEL, efd, MemorySegment.NULL));
        assertEquals(0, LibC.epollWait(epfd, events, 4, 0));
        closeAll(efd, epfd);
    }

    @Test
    void syscallPassesNumberAndArgumentsThroughTheVariadicBinding() {
        assertEquals(ProcessHandle.current().pid(), LibC.getpid());
        assertEquals(LibC.getpid(), LibC.syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0));
        assertEquals(-Errno.EBADF, LibC.syscall(SYS_CLOSE, -1, 0, 0, 0, 0, 0));
        int[] p = pipe(O_CLOEXEC);
        assertEquals(0, LibC.syscall(SYS_CLOSE, p[0], 0, 0, 0, 0, 0));
        assertEquals(-Errno.EBADF, LibC.close(p[0]));
        closeAll(p[1]);
    }

    @Test
    void ioUringSetupThroughSyscall() {
        MemorySegment params = arena.allocate(120); // struct io_uring_params, zeroed
        long ring = LibC.syscall(SYS_IO_URING_SETUP, 1, params.address(), 0, 0, 0, 0);
        assumeFalse(ring == -Errno.ENOSYS || ring == -Errno.EPERM, "io_uring is not available here: " + ring);
        assertTrue(ring >= 0, "io_uring_setup: " + Errno.symbol((int) -ring));
        assertEquals(1, params.get(JAVA_INT, 0), "sq_entries written by the kernel");
        assertEquals(2, params.get(JAVA_INT, 4), "cq_entries written by the kernel");
        assertEquals(0, LibC.syscall(SYS_IO_URING_ENTER, ring, 0, 0, 0, 0, 0), "nothing to submit");
        assertEquals(0, LibC.close((int) ring));
        assertEquals(-Errno.EINVAL, LibC.syscall(SYS_IO_URING_SETUP, 0, params.address(), 0, 0, 0, 0));
    }

    /** errno is captured per thread: concurrent failures never see each other's number. */
    @Test
    void errnoIsCapturedPerThread() throws Exception {
        String missing = dir.resolve("missing").toString();
        Callable<Void> badDescriptor = () -> {
            try (Arena local = Arena.ofConfined()) {
                MemorySegment buffer = local.allocate(8);
                for (int i = 0; i < 20_000; i++) {
                    assertEquals(-Errno.EBADF, LibC.read(-1, buffer, 8));
                }
            }
            return null;
        };
        Callable<Void> missingFile = () -> {
            for (int i = 0; i < 20_000; i++) {
                assertEquals(-Errno.ENOENT, LibC.open(missing, O_RDONLY | O_CLOEXEC, 0));
            }
            return null;
        };
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            Future<?>[] results = {
                threads.submit(badDescriptor), threads.submit(missingFile),
                threads.submit(badDescriptor), threads.submit(missingFile)};
            for (Future<?> result : results) {
                result.get();
            }
        }
    }
}
