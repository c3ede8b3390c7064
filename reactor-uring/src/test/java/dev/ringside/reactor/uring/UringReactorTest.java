package dev.ringside.reactor.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.LinuxOpenOption;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Task;
import dev.ringside.executor.contract.DescriptorFixture;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** io_uring-specific behaviour, on the real kernel. */
class UringReactorTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void requireIoUring() {
        UringFixture.assumeReactorAvailable();
    }

    @Test
    void theRingOnlyRunsTheOpcodesTheReactorSubmits() throws IOException {
        Path target = dir.resolve("must-not-exist");
        try (UringReactor reactor = new UringReactor(); Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(target.toString());
            int result = reactor.submitRawForTest(Uring.OP_OPENAT, Linux.AT_FDCWD, path.address(), 0644, 0,
                    Linux.O_CREAT | Linux.O_WRONLY | Linux.O_CLOEXEC);
            assertEquals(-Errno.EACCES, result, "a disallowed opcode fails with EACCES");
            int nop = reactor.submitRawForTest(Uring.OP_NOP, -1, 0, 0, 0, 0);
            assertEquals(0, nop, "an allowed opcode still runs");
        }
        assertTrue(Files.notExists(target), "the disallowed open never ran");
    }

    /** Of the register opcodes, the enabled ring accepts only the ring-fd registration and its inverse. */
    @Test
    void theRingOnlyAcceptsTheRegisterOpcodesTheReactorUses() throws IOException {
        try (UringReactor reactor = new UringReactor()) {
            int buffers = reactor.registerRawForTest(0); // IORING_REGISTER_BUFFERS
            assertEquals(-Errno.EACCES, buffers, "registering buffers is refused");
            int files = reactor.registerRawForTest(2); // IORING_REGISTER_FILES
            assertEquals(-Errno.EACCES, files, "registering files is refused");
            int ringFds = reactor.registerRawForTest(Uring.REGISTER_RING_FDS);
            assertTrue(ringFds != -Errno.EACCES, "the ring-fd registration is allowed (here with no argument: "
                    + Errno.symbol(-ringFds) + ")");
        }
    }

    @Test
    void theGrantedSetupIsExposed() throws IOException {
        try (UringReactor reactor = UringReactor.builder().entries(16).build()) {
            assertEquals(16, reactor.sqEntries());
            assertEquals(32, reactor.cqEntries(), "the CQ is twice the SQ");
            assertTrue(reactor.setupFlags().contains("CQSIZE"), reactor.setupFlags());
        }
    }

    @Test
    void aBurstOfTenThousandOperationsOnASixteenEntryRingAllComplete() throws Exception {
        int count = 10_000;
        byte[] contents = new byte[count];
        for (int i = 0; i < count; i++) {
            contents[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("burst"), contents);
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().entries(16).factory());
             IoBuffer buffer = IoBuffer.allocate(count)) {
            IoSource source = executor.register(Fd.open(file, StandardOpenOption.READ));
            Task<Void> burst = executor.spawn(() -> {
                List<CompletableFuture<Integer>> reads = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    reads.add(source.read(i, buffer, new MemRegion(i, 1))); // 10,000 SQEs in one loop pass
                }
                return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
            });
            executor.runUntil(burst);
            assertArrayEquals(contents, buffer.toByteArray(), "every read completed with its own byte");
            assertEquals(1, buffer.refCount(), "every hold was released");
            assertEquals(0, executor.reactor().operationsInFlight());
            source.close();
        }
    }

    @Test
    void aSourceOfOneExecutorIsAwaitedByATaskOfAnother() throws Exception {
        RawExecutor<UringReactor> owner = RawExecutor.create(UringReactor::new);
        Thread ownerLoop = Thread.ofPlatform().name("owner-loop").start(owner::run);
        try (RawExecutor<UringReactor> other = RawExecutor.create(UringReactor::new)) {
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = owner.register(pipe.readEnd());
            IoSource writeEnd = owner.register(pipe.writeEnd());
            AtomicBoolean resumedOnOtherLoop = new AtomicBoolean();
            byte[] into = new byte[5];
            Task<Integer> task = other.spawn(() -> readEnd.read(-1, into)
                    .whenComplete((n, e) -> resumedOnOtherLoop.set(other.isLoopThread())));
            writeEnd.write(-1, "cross".getBytes());
            assertEquals(5, other.runUntil(task));
            assertArrayEquals("cross".getBytes(), into);
            assertTrue(resumedOnOtherLoop.get(), "the awaiting task resumes on its own loop");
            readEnd.close();
            writeEnd.close();
        } finally {
            owner.close();
            ownerLoop.join();
        }
    }

    @Test
    void aSingleIssuerRingWorksOnItsThreadAndIsWokenFromOthers() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().singleIssuer(true).factory())) {
            String flags = executor.reactor().setupFlags();
            int[] kernel = kernelVersion();
            if (kernel[0] > 6 || kernel[0] == 6 && kernel[1] >= 1) {
                assertTrue(flags.contains("SINGLE_ISSUER") && flags.contains("DEFER_TASKRUN"), flags);
            } else { // SINGLE_ISSUER came in 6.0, DEFER_TASKRUN in 6.1; the binding holds without them
                assertFalse(flags.contains("DEFER_TASKRUN"), flags);
            }
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            byte[] into = new byte[3];
            CompletableFuture<Integer> read = readEnd.read(-1, into);
            Thread.ofPlatform().start(() -> writeEnd.write(-1, "one".getBytes())); // queued from another thread
            assertEquals(3, executor.runUntil(read));
            assertArrayEquals("one".getBytes(), into);
            CompletableFuture<String> answer = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> executor.execute(() -> answer.complete("woken")));
            assertEquals("woken", executor.runUntil(answer));
            readEnd.close();
            writeEnd.close();
        }
    }

    /**
     * A {@code SINGLE_ISSUER} ring binds to the first thread that runs the loop, not to the one that
     * built the executor. Another thread that tries to run the idle loop, or to close the executor while
     * no loop runs, is refused before it touches the ring, with a message naming both threads; the bound
     * thread then still runs the loop, and its close drains a read left pending: the buffer comes back
     * and no descriptor stays open.
     */
    @Test
    void aSingleIssuerRingIsBoundToTheFirstThreadThatRunsTheLoop() throws Exception {
        long descriptorsBefore = openDescriptors();
        ExecutorService bound = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "bound-loop"));
        IoBuffer buffer = IoBuffer.allocate(8);
        try {
            RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().singleIssuer(true).factory());
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            CompletableFuture<Integer> first = readEnd.read(-1, buffer, new MemRegion[] {new MemRegion(0, 3)});
            writeEnd.write(-1, "one".getBytes()); // issued here, before any loop ran
            assertEquals(3, bound.submit(() -> executor.runUntil(first)).get(10, TimeUnit.SECONDS));

            CompletableFuture<Integer> second = readEnd.read(-1, buffer, new MemRegion[] {new MemRegion(0, 3)});
            IllegalStateException run = assertThrows(IllegalStateException.class, () -> executor.runUntil(second));
            String here = Thread.currentThread().getName();
            assertTrue(run.getMessage().contains("\"bound-loop\"") && run.getMessage().contains("\"" + here + "\""),
                    run.getMessage());
            writeEnd.write(-1, "two".getBytes());
            assertEquals(3, bound.submit(() -> executor.runUntil(second)).get(10, TimeUnit.SECONDS),
                    "the bound thread still runs the loop after the refusal");

            CompletableFuture<Integer> pending = readEnd.read(-1, buffer, new MemRegion[] {new MemRegion(0, 3)});
            bound.submit(() -> executor.runUntil(executor.sleep(Duration.ofMillis(20))))
                    .get(10, TimeUnit.SECONDS); // the loop waits, so the read is in the kernel
            assertEquals(2, buffer.refCount(), "the pending read holds the buffer");
            readEnd.close();
            writeEnd.close();
            IllegalStateException close = assertThrows(IllegalStateException.class, executor::close);
            assertTrue(close.getMessage().contains("\"bound-loop\""), close.getMessage());
            assertFalse(pending.isDone(), "a refused close drains nothing");
            bound.submit(executor::close).get(10, TimeUnit.SECONDS);
            assertTrue(pending.isCancelled(), "the bound thread's close drained the pending read");
            assertEquals(1, buffer.refCount(), "the kernel handed the buffer back");
        } finally {
            bound.shutdown();
            buffer.release();
        }
        assertEquals(descriptorsBefore, openDescriptors(), "no descriptor left open");
    }

    /** A virtual thread cannot become a ring's single issuer; a platform thread can, after the refusal. */
    @Test
    void aSingleIssuerRingRefusesAVirtualThread() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().singleIssuer(true).factory())) {
            CompletableFuture<Throwable> refusal = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
                    refusal.complete(null);
                } catch (Throwable t) {
                    refusal.complete(t);
                }
            });
            Throwable refused = refusal.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, refused);
            assertTrue(refused.getMessage().contains("virtual"), refused.getMessage());
            IoSource events = executor.register(Fd.eventfd(0, false));
            assertNull(executor.runUntil(events.nop()), "this platform thread binds the ring and uses it");
            events.close();
        }
    }

    /** The running kernel's major and minor version, from {@code /proc/sys/kernel/osrelease}. */
    /**
     * io_uring reads the file position when it issues a request and moves it when the request
     * completes: O_DIRECT reads and writes at the current position, several in flight, would all use
     * the same position. The executor runs them one after another (RawExecutor, "The file position"):
     * eight page reads get the eight pages in order, and eight page writes make an eight-page file.
     */
    @Test
    void directReadsAndWritesAtTheCurrentPositionEachGetTheirOwnPages() throws Exception {
        int pages = 8, page = 4096;
        byte[] content = new byte[pages * page];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i / page + 1);
        }
        Path file = Files.write(dir.resolve("position.bin"), content);
        try {
            Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.DIRECT).close();
        } catch (ErrnoException e) {
            assumeFalse(e.errno() == Errno.EINVAL, "the file system of " + dir + " has no O_DIRECT");
            throw e;
        }
        Path copy = dir.resolve("position-copy.bin");
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().factory());
             IoBuffer buffer = IoBuffer.allocate(content.length, page)) {
            IoSource in = executor.register(Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.DIRECT));
            IoSource out = executor.register(Fd.open(copy, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    LinuxOpenOption.DIRECT));
            for (IoSource source : List.of(in, out)) {
                Integer total = executor.runUntil(executor.spawn(() -> {
                    List<CompletableFuture<Integer>> all = new ArrayList<>();
                    for (int i = 0; i < pages; i++) {
                        MemRegion region = new MemRegion((long) i * page, page);
                        all.add(source == in ? in.read(IoSource.CURRENT_POSITION, buffer, region)
                                : out.write(IoSource.CURRENT_POSITION, buffer, region));
                    }
                    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                            .thenApply(ignored -> all.stream().mapToInt(CompletableFuture::join).sum());
                }));
                assertEquals(content.length, total);
                if (source == in) {
                    assertArrayEquals(content, buffer.toByteArray(), "each read got its own page, in order");
                    assertEquals(0, executor.runUntil(in.read(IoSource.CURRENT_POSITION, buffer, new MemRegion(0, page))),
                            "the position is at the end");
                }
            }
            in.close();
            out.close();
        }
        assertArrayEquals(content, Files.readAllBytes(copy), "each write went to its own page, in order");
    }

    /**
     * A {@code SINGLE_ISSUER} ring whose bound thread ended with the executor open: another thread may
     * still run the loop, and its tasks run, but new operations fail at once, naming the ended thread;
     * {@code close()} from there terminates the executor and closes the ring and its eventfd, while the
     * read the ended thread left in the kernel keeps its buffer and descriptor (the kernel may still be
     * using them, and nobody may ask it any more).
     */
    @Test
    void aSingleIssuerExecutorWhoseThreadEndedRefusesNewOperationsAndClosesFromAnotherThread() throws Exception {
        long descriptorsBefore = openDescriptors();
        IoBuffer buffer = IoBuffer.allocate(8);
        RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().singleIssuer(true).factory());
        Fd.Pipe pipe = Fd.pipe();
        IoSource readEnd = executor.register(pipe.readEnd());
        IoSource writeEnd = executor.register(pipe.writeEnd());
        CompletableFuture<Integer>[] pending = new CompletableFuture[1];
        Path[] boundKernelThread = new Path[1];
        Thread bound = Thread.ofPlatform().name("bound-loop").start(() -> {
            boundKernelThread[0] = kernelThreadEntry();
            pending[0] = readEnd.read(-1, buffer, new MemRegion(0, 8));
            executor.runUntil(executor.sleep(Duration.ofMillis(5)));
        });
        bound.join();
        awaitExit(boundKernelThread[0]);
        assertEquals(42, executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(42))),
                "tasks still run on another thread");
        CompletableFuture<Integer> late = writeEnd.write(-1, "x".getBytes());
        CompletionException refused = assertThrows(CompletionException.class, () -> executor.runUntil(late));
        assertInstanceOf(IllegalStateException.class, refused.getCause());
        assertTrue(refused.getCause().getMessage().contains("\"bound-loop\" has ended"), refused.getCause().getMessage());
        assertFalse(pending[0].isDone(), "nothing completes the read the ended thread left");
        readEnd.close();
        writeEnd.close();
        executor.close();
        assertTrue(executor.isTerminated());
        assertTrue(pending[0].isCancelled());
        assertTrue(executor.reactor().leakedOnClose(), "what the kernel held is leaked, not freed");
        assertEquals(2, buffer.refCount(), "the read's buffer stays held");
        buffer.release();
        assertFalse(buffer.isFreed(), "and is never freed");
        assertEquals(descriptorsBefore + 1, openDescriptors(),
                "the ring and its eventfd are closed, the pipe's write end too; only the read's held read end stays open");
    }

    /**
     * The kernel runs a request's task work on the thread that submitted it; once that thread has
     * ended, a request that needs it (here a pipe read, retried when the pipe becomes readable) ends
     * with ECANCELED instead, having read nothing. Nobody asked for that cancel: the reactor submits the
     * read again from the thread now running the loop, and it reads the byte (the contract suite checks
     * the results on every reactor; this, that the kernel's cancel happened and was answered so).
     */
    @Test
    void aReadTheKernelCancelsBecauseItsSubmittingThreadEndedIsSubmittedAgain() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().factory());
             IoBuffer buffer = IoBuffer.allocate(8); Fd.Pipe pipe = Fd.pipe()) {
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            CompletableFuture<Integer>[] read = new CompletableFuture[1];
            Path[] firstKernelThread = new Path[1];
            Thread first = Thread.ofPlatform().start(() -> {
                firstKernelThread[0] = kernelThreadEntry();
                read[0] = readEnd.read(-1, buffer, new MemRegion(0, 8));
                executor.runUntil(executor.sleep(Duration.ofMillis(5)));
            });
            first.join();
            awaitExit(firstKernelThread[0]);
            assertEquals(1, executor.runUntil(writeEnd.write(-1, new byte[] {7})));
            assertEquals(1, executor.runUntil(read[0]), "the read, submitted again, got the byte");
            assertEquals(7, buffer.toByteArray()[0]);
            assertEquals(1, executor.reactor().resubmissions(), "the kernel's cancel was answered by submitting again");
            readEnd.close();
            writeEnd.close();
        }
    }

    /** The calling thread's kernel thread, as its entry under {@code /proc/self/task}. */
    private static Path kernelThreadEntry() {
        try {
            return Path.of("/proc/self/task").resolve(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the kernel thread {@code entry} to exit: a joined thread may still be on its way out. */
    private static void awaitExit(Path entry) throws InterruptedException {
        for (int i = 0; i < 10_000 && Files.exists(entry); i++) {
            Thread.sleep(1);
        }
        assertFalse(Files.exists(entry), "kernel thread " + entry + " has exited");
    }

    private static int[] kernelVersion() throws IOException {
        String[] parts = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip().split("[.-]");
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    }

    /** How many descriptors this process has open ({@code /proc/self/fd}, the listing's own included). */
    private static long openDescriptors() throws IOException {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }

    /** A single-issuer reactor closed before any loop ran never enabled its ring: nothing to drain or leak. */
    @Test
    void aSingleIssuerReactorClosedUnusedLeaksNothing() throws IOException {
        long descriptorsBefore = openDescriptors();
        UringReactor reactor = UringReactor.builder().singleIssuer(true).build();
        reactor.close();
        assertFalse(reactor.leakedOnClose(), "the wake-up read was never submitted");
        assertEquals(descriptorsBefore, openDescriptors(), "ring and eventfd closed");
    }

    @Test
    void aStaleOrUnknownCompletionIsIgnored() throws IOException {
        try (UringReactor reactor = new UringReactor()) {
            reactor.completeForTest(0x0000_0007_0000_0003L, 5); // generation 7 of slot 3: never issued
            reactor.completeForTest(123_456L, -1);
            assertEquals(0, reactor.operationsInFlight());
        }
    }

    /**
     * A reactor closed unused (as the availability probe closes one) cancels its own wake-up read and
     * gets its buffer back, so it frees its memory instead of leaking it.
     */
    @Test
    void aReactorClosedUnusedLeaksNothing() throws IOException {
        UringReactor reactor = new UringReactor();
        reactor.close();
        assertFalse(reactor.leakedOnClose(), "the wake-up read was handed back before the ring closed");
    }

    /**
     * The loop thread enters the ring by its registered index while the loop runs, and the
     * registration is dropped when the loop leaves the thread: a thread's table holds 16 rings, so
     * twenty executors run and closed in turn on one thread would find it full if one leaked.
     */
    @Test
    void theLoopThreadRegistersTheRingWhileItRunsAndDropsItAfter() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
                UringReactor reactor = executor.reactor();
                assertFalse(reactor.ringRegistered(), "no loop runs yet");
                boolean whileRunning = executor.runUntil(executor.spawn(
                        () -> CompletableFuture.completedFuture(reactor.ringRegistered())));
                assertTrue(whileRunning, "executor " + i + ": registered while its loop runs");
                assertFalse(reactor.ringRegistered(), "executor " + i + ": dropped when runUntil returns");
                IoSource events = executor.register(Fd.eventfd(0, false));
                assertNull(executor.runUntil(events.nop()), "the ring still works, entered by descriptor");
                events.close();
            }
        }
    }

    /** A thread's table of registered rings is small; a ring that finds it full is entered by descriptor. */
    @Test
    void whenTheThreadsTableIsFullLoopsEnterByDescriptor() throws Exception {
        List<RawExecutor<UringReactor>> executors = new ArrayList<>();
        try {
            // Nested loops: each executor's task runs the next executor's loop on the same thread,
            // so all of them are registered, or trying to be, at once.
            for (int i = 0; i < 20; i++) {
                executors.add(RawExecutor.create(UringReactor::new));
            }
            List<Boolean> registered = new ArrayList<>();
            List<Object> nops = new ArrayList<>();
            nest(executors, 0, registered, nops);
            assertEquals(20, registered.size());
            assertTrue(registered.get(0), "the first ring is registered");
            assertTrue(registered.contains(false), "the table is full before the twentieth: " + registered);
            assertEquals(20, nops.size(), "every loop completed a NOP, registered or not");
        } finally {
            executors.forEach(RawExecutor::close);
        }
    }

    /** Runs executor i's loop; its task records the registration, runs executor i+1's loop, then a NOP. */
    private static void nest(List<RawExecutor<UringReactor>> executors, int i, List<Boolean> registered,
                             List<Object> nops) throws IOException {
        if (i == executors.size()) {
            return;
        }
        RawExecutor<UringReactor> executor = executors.get(i);
        IoSource events = executor.register(Fd.eventfd(0, false));
        executor.runUntil(executor.spawn(() -> {
            registered.add(executor.reactor().ringRegistered());
            try {
                nest(executors, i + 1, registered, nops);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
            return events.nop().thenRun(() -> nops.add(executor));
        }));
        events.close();
    }

    /**
     * A loop on a virtual thread enters by descriptor: a registered index is valid only on the carrier
     * that registered it, and a virtual thread may be on another carrier at its next enter.
     */
    @Test
    void aLoopOnAVirtualThreadEntersByDescriptor() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            IoSource events = executor.register(Fd.eventfd(0, false));
            CompletableFuture<Boolean> registered = new CompletableFuture<>();
            Thread loop = Thread.ofVirtual().start(() -> {
                try {
                    registered.complete(executor.runUntil(executor.spawn(() -> events.nop()
                            .thenCompose(ignored -> executor.sleep(Duration.ofMillis(1)))
                            .thenCompose(ignored -> events.nop())
                            .thenApply(ignored -> executor.reactor().ringRegistered()))));
                } catch (Throwable failure) {
                    registered.completeExceptionally(failure);
                }
            });
            loop.join();
            assertFalse(registered.join(), "a virtual thread is never registered, and its NOPs complete");
            events.close();
        }
    }

    /**
     * By default the SQEs of a loop pass reach the kernel in the pass's one enter; with
     * {@code submitBatch(n)} they go as soon as n are waiting.
     */
    @Test
    void submitBatchHandsSqesToTheKernelAsSoonAsThatManyWait() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> UringReactor.builder().submitBatch(0));
        for (int batch : new int[] {Integer.MAX_VALUE, 1, 8}) {
            try (RawExecutor<UringReactor> executor = RawExecutor.create(
                    UringReactor.builder().submitBatch(batch).factory())) {
                IoSource events = executor.register(Fd.eventfd(0, false));
                executor.runUntil(events.nop()); // settle: the first loop pass
                long before = executor.reactor().enterCalls();
                executor.runUntil(executor.spawn(() -> {
                    List<CompletableFuture<Void>> nops = new ArrayList<>();
                    for (int i = 0; i < 64; i++) {
                        nops.add(events.nop());
                    }
                    return CompletableFuture.allOf(nops.toArray(CompletableFuture[]::new));
                }));
                long enters = executor.reactor().enterCalls() - before;
                if (batch == Integer.MAX_VALUE) {
                    assertTrue(enters <= 4, "64 NOPs of one pass in one enter (plus the loop's own): " + enters);
                } else {
                    assertTrue(enters >= 64 / batch && enters <= 64 / batch + 4,
                            "submitBatch(" + batch + "): one enter per " + batch + " NOPs, got " + enters);
                }
                events.close();
            }
        }
    }

    /**
     * Reads on an {@code O_DIRECT} descriptor go to the kernel one by one as they are issued
     * ({@code directSubmitBatch(1)}, the default) while others are in flight; the same reads through
     * the page cache are batched per loop pass, and so are direct ones with
     * {@code directSubmitBatch(Integer.MAX_VALUE)}. Every read returns the file's bytes either way, and
     * at queue depth 1 each read costs one enter in every case.
     */
    @Test
    void directReadsReachTheKernelAsTheyAreIssuedAndBufferedReadsPerPass() throws Exception {
        int reads = 16, size = 4096;
        byte[] content = new byte[reads * size];
        new Random(7).nextBytes(content);
        Path file = dir.resolve("direct.bin");
        Files.write(file, content);
        try {
            Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.DIRECT).close();
        } catch (ErrnoException e) {
            assumeFalse(e.errno() == Errno.EINVAL, "the file system of " + dir + " has no O_DIRECT");
            throw e;
        }
        record Case(boolean direct, int directSubmitBatch, boolean oneByOne) {}
        for (Case c : List.of(new Case(true, 1, true), new Case(false, 1, false),
                new Case(true, Integer.MAX_VALUE, false))) {
            try (RawExecutor<UringReactor> executor = RawExecutor.create(
                    UringReactor.builder().directSubmitBatch(c.directSubmitBatch()).factory());
                 IoBuffer buffer = IoBuffer.allocate((long) reads * size, 4096)) {
                IoSource source = executor.register(c.direct()
                        ? Fd.open(file, StandardOpenOption.READ, LinuxOpenOption.DIRECT)
                        : Fd.open(file, StandardOpenOption.READ));
                executor.runUntil(source.read(0, buffer, new MemRegion(0, size))); // settle: the first loop pass
                long before = executor.reactor().enterCalls();
                Integer total = executor.runUntil(executor.spawn(() -> {
                    List<CompletableFuture<Integer>> all = new ArrayList<>();
                    for (int i = 0; i < reads; i++) {
                        all.add(source.read((long) i * size, buffer, new MemRegion((long) i * size, size)));
                    }
                    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                            .thenApply(ignored -> all.stream().mapToInt(CompletableFuture::join).sum());
                }));
                long enters = executor.reactor().enterCalls() - before;
                assertEquals(reads * size, total, c.toString());
                assertArrayEquals(content, buffer.segment().toArray(ValueLayout.JAVA_BYTE), c.toString());
                if (c.oneByOne()) {
                    // the first waits for the second, which takes both; every later one goes alone
                    assertTrue(enters >= reads - 1, c + ": one enter per read, got " + enters);
                } else {
                    assertTrue(enters <= 4, c + ": the reads of one pass in one enter (plus waits), got " + enters);
                }
                // Queue depth 1: a read with nothing else in flight goes in the enter that waits for it.
                before = executor.reactor().enterCalls();
                for (int i = 0; i < 4; i++) {
                    assertEquals(size, executor.runUntil(source.read((long) i * size, buffer, new MemRegion(0, size))));
                }
                assertEquals(4, executor.reactor().enterCalls() - before, c + ": one enter per read at depth 1");
                source.close();
            }
        }
    }

    /** A loop that moves to another thread registers the ring there too. */
    @Test
    void aLoopThatMovesBetweenThreadsRegistersOnEach() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            IoSource events = executor.register(Fd.eventfd(0, false));
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Boolean> registered = new CompletableFuture<>();
                Thread loop = Thread.ofPlatform().name("loop-" + i).start(() -> registered.complete(
                        executor.runUntil(executor.spawn(() -> events.nop()
                                .thenApply(ignored -> executor.reactor().ringRegistered())))));
                loop.join();
                assertTrue(registered.join(), "registered on thread loop-" + i);
            }
            events.close();
        }
    }

    /**
     * A read or write the kernel answers with {@code EAGAIN} (made to here with {@code RWF_NOWAIT}, as
     * older kernels answer for {@code O_NONBLOCK} descriptors) waits for readiness and is submitted
     * again: it completes with the bytes, with end of file, or, cancelled, hands its buffer back only
     * when the kernel returns the readiness wait.
     */
    @Test
    void eagainFromTheKernelWaitsForReadinessAndSubmitsAgain() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            UringReactor reactor = executor.reactor();
            reactor.nowaitForTest = true;
            Fd.Pipe pipe = Fd.pipe();
            int writeFd = pipe.writeEnd().intValue();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());

            try (IoBuffer buffer = IoBuffer.allocate(16)) {
                CompletableFuture<Integer> read = readEnd.read(IoSource.CURRENT_POSITION, buffer, new MemRegion(0, 16));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
                assertEquals(1, reactor.readinessWaits(), "the kernel answered EAGAIN, and the read waits for POLLIN");
                assertFalse(read.isDone());
                assertEquals(2, buffer.refCount(), "the waiting read holds its buffer");
                assertEquals(5, executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, "ready".getBytes())));
                assertEquals(5, executor.runUntil(read));
                assertEquals("ready", new String(buffer.toByteArray(0, 5)));
                assertEquals(1, buffer.refCount());

                CompletableFuture<Integer> cancelled = readEnd.read(IoSource.CURRENT_POSITION, buffer, new MemRegion(0, 16));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
                assertEquals(2, reactor.readinessWaits());
                assertTrue(cancelled.cancel(false));
                assertEquals(2, buffer.refCount(), "cancelled, but the kernel still holds the readiness wait");
                for (int i = 0; i < 1000 && buffer.refCount() != 1; i++) {
                    executor.runUntil(executor.sleep(Duration.ofMillis(1)));
                }
                assertEquals(1, buffer.refCount(), "the kernel handed the cancelled wait back");
                assertEquals(0, reactor.operationsInFlight(), "nothing is left in flight");
            }

            long capacity = DescriptorFixture.fillWithoutBlocking(writeFd);
            CompletableFuture<Integer> write = writeEnd.write(IoSource.CURRENT_POSITION, "late".getBytes());
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            assertEquals(3, reactor.readinessWaits(), "a full pipe: the write waits for POLLOUT");
            assertFalse(write.isDone());
            for (long drained = 0; drained < capacity; ) {
                drained += executor.runUntil(readEnd.read(IoSource.CURRENT_POSITION, new byte[(int) (capacity - drained)]));
            }
            assertEquals(4, executor.runUntil(write));
            byte[] late = new byte[4];
            assertEquals(4, executor.runUntil(readEnd.read(IoSource.CURRENT_POSITION, late)));
            assertEquals("late", new String(late));

            CompletableFuture<Integer> eof = readEnd.read(IoSource.CURRENT_POSITION, new byte[4]);
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            assertFalse(eof.isDone());
            long waits = reactor.readinessWaits();
            writeEnd.close();
            assertEquals(0, executor.runUntil(eof), "the writer closed: POLLHUP, then the read again says end of file");
            assertTrue(waits >= 4, "the read waited for readiness: " + waits);

            Fd.Pipe idle = Fd.pipe();
            IoSource idleRead = executor.register(idle.readEnd());
            try (IoBuffer held = IoBuffer.allocate(8)) {
                CompletableFuture<Integer> atClose = idleRead.read(IoSource.CURRENT_POSITION, held, new MemRegion(0, 8));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
                assertEquals(waits + 1, reactor.readinessWaits());
                executor.close();
                assertTrue(atClose.isCancelled(), "closing the executor fails a read waiting for readiness");
                assertEquals(1, held.refCount(), "the drain got the readiness wait back before close returned");
                assertEquals(0, reactor.operationsInFlight());
            }
            idleRead.close();
            idle.writeEnd().close();
            readEnd.close();
        }
    }

    /**
     * The same detour for the other streams: an eventfd and a timerfd (which, unlike pipes, accept
     * {@code lseek}, so only their file type marks them as streams), a socket's {@code RECV}, and a
     * pipe read of several regions ({@code READV}).
     */
    @Test
    void eagainOnEventfdsTimerfdsSocketsAndVectoredReadsWaitsToo() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            UringReactor reactor = executor.reactor();
            reactor.nowaitForTest = true;
            Fd eventFd = Fd.eventfd(0, false);
            IoSource events = executor.register(eventFd);
            Fd timerFd = Fd.timerfd();
            IoSource timer = executor.register(timerFd);
            Fd.SocketPair sockets = Fd.socketpair();
            IoSource first = executor.register(sockets.first());
            IoSource second = executor.register(sockets.second());
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());

            byte[] counter = new byte[8], expirations = new byte[8], received = new byte[8];
            CompletableFuture<Integer> eventRead = events.read(IoSource.CURRENT_POSITION, counter);
            CompletableFuture<Integer> timerRead = timer.read(IoSource.CURRENT_POSITION, expirations);
            CompletableFuture<Integer> socketRead = second.read(IoSource.CURRENT_POSITION, received);
            try (IoBuffer vectored = IoBuffer.allocate(8)) {
                CompletableFuture<Integer> readv = readEnd.read(IoSource.CURRENT_POSITION, vectored,
                        new MemRegion(4, 2), new MemRegion(0, 2));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
                assertEquals(4, reactor.readinessWaits(), "each of the four met EAGAIN and waits for readiness");
                assertFalse(eventRead.isDone() || timerRead.isDone() || socketRead.isDone() || readv.isDone());

                byte[] one = new byte[8];
                one[0] = 1; // little-endian 1
                // The kernel refuses RWF_NOWAIT on eventfd writes every time, while poll says writable:
                // after the last wait allowed, EAGAIN is the result instead of a loop that spins.
                long before = reactor.readinessWaits();
                CompletionException spun = assertThrows(CompletionException.class,
                        () -> executor.runUntil(events.write(IoSource.CURRENT_POSITION, one)));
                ErrnoException refused = assertInstanceOf(ErrnoException.class, spun.getCause());
                assertEquals("EAGAIN", refused.symbol(), refused.getMessage());
                assertEquals(OpTable.MAX_READINESS_WAITS, reactor.readinessWaits() - before);
                try (Arena arena = Arena.ofConfined()) {
                    assertEquals(8, LibC.write(eventFd.intValue(), arena.allocateFrom(ValueLayout.JAVA_LONG, 1L), 8));
                }
                timerFd.setTimer(Duration.ofMillis(1), Duration.ZERO);
                assertEquals(4, executor.runUntil(first.write(IoSource.CURRENT_POSITION, "sock".getBytes())));
                assertEquals(4, executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, "ABCD".getBytes())));
                assertEquals(8, executor.runUntil(eventRead));
                assertEquals(1L, MemorySegment.ofArray(counter).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                assertEquals(8, executor.runUntil(timerRead));
                assertEquals(1L, MemorySegment.ofArray(expirations).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                assertEquals(4, executor.runUntil(socketRead));
                assertEquals("sock", new String(received, 0, 4));
                assertEquals(4, executor.runUntil(readv));
                assertEquals("CD", new String(vectored.toByteArray(0, 2)));
                assertEquals("AB", new String(vectored.toByteArray(4, 2)));
            }
            for (IoSource source : List.of(events, timer, first, second, readEnd, writeEnd)) {
                source.close();
            }
        }
    }

    @Test
    void createDefaultPicksIoUringHere() throws IOException {
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(UringReactor.class, executor.reactor());
        }
    }

    /**
     * A loop spinning before it blocks polls the ring almost without entering the kernel: with a read
     * in flight and nothing to submit, its non-blocking reaps read the CQ from shared memory (the ring was
     * granted TASKRUN_FLAG), entering only once every {@value Ring#MAX_REAPS_WITHOUT_ENTER} of them. The
     * read still completes when another thread writes the pipe outside the executor. Before, every poll
     * was an io_uring_enter.
     */
    @Test
    void aSpinningLoopPollsTheRingWithoutEnteringTheKernel() throws Exception {
        Fd.Pipe pipe = Fd.pipe();
        try (RawExecutor<UringReactor> executor = RawExecutor.builder(UringReactor::new)
                        .spinBeforeBlocking(Duration.ofMinutes(10)).build();
                Fd writeEnd = pipe.writeEnd(); Arena arena = Arena.ofConfined()) {
            UringReactor reactor = executor.reactor();
            assumeTrue(reactor.setupFlags().contains("TASKRUN_FLAG"),
                    "the kernel refused TASKRUN_FLAG (before 5.19): every reap enters; granted " + reactor.setupFlags());
            IoSource readEnd = executor.register(pipe.readEnd());
            IoBuffer buffer = IoBuffer.allocate(8);
            Thread loop = Thread.ofPlatform().start(executor::run);
            CompletableFuture<Integer> read = readEnd.read(-1, buffer, new MemRegion(0, 8));
            long[] before = executor.submit(() -> new long[] {reactor.enterCalls(), reactor.reapsWithoutEnter()})
                    .get(10, TimeUnit.SECONDS);
            Thread.sleep(100); // the loop spins, polling the pending read
            long[] after = executor.submit(() -> new long[] {reactor.enterCalls(), reactor.reapsWithoutEnter()})
                    .get(10, TimeUnit.SECONDS);
            long enters = after[0] - before[0], skipped = after[1] - before[1];
            assertTrue(skipped >= 100 * enters && skipped > 0,
                    "polls that entered: " + enters + ", polls that read the CQ only: " + skipped);
            assertFalse(read.isDone());
            MemorySegment bytes = arena.allocateFrom("x");
            assertEquals(1, LibC.write(writeEnd.intValue(), bytes, 1));
            assertEquals(1, read.get(10, TimeUnit.SECONDS), "a completion that arrives while the loop spins is reaped");
            assertEquals('x', buffer.segment().get(ValueLayout.JAVA_BYTE, 0));
            readEnd.close();
            executor.close();
            loop.join(10_000);
            assertFalse(loop.isAlive());
            buffer.close();
        }
    }
}
