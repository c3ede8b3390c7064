package dev.ringside.executor.kotlin

import dev.ringside.executor.ExecutorClosedException
import dev.ringside.executor.IoOperation
import dev.ringside.executor.IoSource.CURRENT_POSITION
import dev.ringside.executor.RawExecutor
import dev.ringside.executor.fake.FakeReactor
import java.io.EOFException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.future.await
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.coroutines.yield
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The dispatcher, [runCoroutine] and the IO transfers on the fake reactor, whose clock is virtual: time
 * is asserted on that clock only, never on the wall clock.
 */
class LoopDispatcherTest {

    private val fake = FakeReactor()
    private val executor: RawExecutor<FakeReactor> = RawExecutor.create { fake }

    @AfterEach
    fun closeExecutor() {
        executor.close()
    }

    @Test
    fun `delay of an hour completes after an hour of virtual time`() {
        val before = fake.nanoTime()

        val after = executor.runCoroutine {
            delay(1.hours)
            fake.nanoTime()
        }

        val elapsed = after - before
        assertTrue(elapsed >= 1.hours.inWholeNanoseconds, "virtual time passed: $elapsed ns")
        assertTrue(elapsed < (1.hours + 1.seconds).inWholeNanoseconds, "virtual time passed: $elapsed ns")
    }

    @Test
    fun `coroutines run on the loop thread, also after delay, IO and a detour to another dispatcher`() {
        val pipe = fake.newPipe(executor)
        val onLoop = mutableListOf<Pair<String, Boolean>>()

        executor.runCoroutine {
            onLoop += "start" to executor.isLoopThread
            delay(10.milliseconds)
            onLoop += "after delay" to executor.isLoopThread
            pipe.writeEnd().write(CURRENT_POSITION, byteArrayOf(1)).await()
            onLoop += "after IO" to executor.isLoopThread
            val elsewhere = withContext(Dispatchers.Default) { executor.isLoopThread }
            onLoop += "after withContext(Dispatchers.Default)" to executor.isLoopThread
            assertFalse(elsewhere, "Dispatchers.Default is not the loop thread")
            launch { onLoop += "child" to executor.isLoopThread }.join()
            yield()
            onLoop += "after yield" to executor.isLoopThread
        }

        assertEquals(6, onLoop.size, onLoop.toString())
        onLoop.forEach { (where, loop) -> assertTrue(loop, "on the loop thread $where") }
    }

    @Test
    fun `withTimeout on a read that never completes cancels the read`() {
        val pipe = fake.newPipe(executor)
        val read = CompletableFuture<CompletableFuture<Int>>()
        val before = fake.nanoTime()

        val result = executor.runCoroutine {
            withTimeoutOrNull(5.seconds) {
                val operation = pipe.readEnd().read(CURRENT_POSITION, ByteArray(16))
                read.complete(operation)
                operation.await()
            }
        }

        assertNull(result, "timed out")
        assertTrue(read.join().isCancelled, "the read's future is cancelled")
        assertEquals(5.seconds.inWholeNanoseconds, fake.nanoTime() - before, "virtual time passed")
        executor.runCoroutine { delay(1.milliseconds) } // one more loop pass delivers the reactor's completion
        val logged = fake.operationLog().single { it.kind() == IoOperation.Kind.READ }
        assertTrue(logged.cancelRequested(), "the reactor was asked to cancel the read: $logged")
    }

    @Test
    fun `withTimeout throws TimeoutCancellationException and cancels the delay it cut short`() {
        val before = fake.nanoTime()

        assertThrows<kotlinx.coroutines.TimeoutCancellationException> {
            executor.runCoroutine { withTimeout(1.seconds) { delay(1.hours) } }
        }
        assertEquals(1.seconds.inWholeNanoseconds, fake.nanoTime() - before)

        // A timer still pending would keep a shut-down loop going until it fired an hour later.
        executor.shutdown()
        executor.run()
        assertTrue(executor.isTerminated)
        assertEquals(1.seconds.inWholeNanoseconds, fake.nanoTime() - before, "the hour-long timer was cancelled")
    }

    @Test
    fun `IO awaited by one coroutine returns the data another wrote through a pipe`() {
        val pipe = fake.newPipe(executor)
        val message = "hello through the loop".toByteArray()

        val received = executor.runCoroutine {
            val reader = async {
                val buffer = ByteArray(64)
                val count = pipe.readEnd().read(CURRENT_POSITION, buffer).await()
                buffer.copyOf(count)
            }
            launch {
                delay(1.seconds)
                val written = pipe.writeEnd().write(CURRENT_POSITION, message).await()
                assertEquals(message.size, written)
            }
            reader.await()
        }

        assertArrayEquals(message, received)
    }

    @Test
    fun `readFully and writeFully move whole buffers across short transfers`() {
        val pipe = fake.newPipe(executor, 4)
        fake.limitTransfers(3)
        val message = ByteArray(100) { it.toByte() }

        val received = executor.runCoroutine {
            launch { pipe.writeEnd().writeFully(CURRENT_POSITION, message) }
            ByteArray(message.size).also { pipe.readEnd().readFully(CURRENT_POSITION, it) }
        }

        assertArrayEquals(message, received)
        val writes = fake.operationLog().count { it.kind() == IoOperation.Kind.WRITE }
        assertTrue(writes >= 34, "100 bytes at most 3 at a time took $writes writes")
    }

    @Test
    fun `readFully at an offset reads a file from there and throws EOFException at its end`() {
        val file = fake.open(executor, fake.newFile(ByteArray(10) { (it * 2).toByte() }))
        fake.limitTransfers(2)

        val middle = executor.runCoroutine { ByteArray(5).also { file.readFully(3, it) } }
        assertArrayEquals(ByteArray(5) { ((it + 3) * 2).toByte() }, middle)

        val tooLong = java.nio.ByteBuffer.allocate(8)
        assertThrows<EOFException> { executor.runCoroutine { file.readFully(6, tooLong) } }
        assertEquals(4, tooLong.position(), "the bytes up to the end of the file were read")
    }

    @Test
    fun `a coroutine that awaited a task can go on to do IO and sleep`() {
        // Resumed inside the finishing task's completion, the coroutine's next IO would belong to that
        // task, which cancels it at once; the dispatcher queues the resumption instead.
        val pipe = fake.newPipe(executor)

        val written = executor.runCoroutine {
            val answer = executor.spawn { CompletableFuture.completedFuture(42) }.await()
            delay(1.milliseconds)
            val slept = executor.spawn { executor.sleep(java.time.Duration.ofMillis(5)).thenApply { 7 } }.await()
            pipe.writeEnd().write(CURRENT_POSITION, byteArrayOf(answer.toByte(), slept.toByte())).await()
        }

        assertEquals(2, written)
    }

    @Test
    fun `coroutines that keep resuming each other do not keep IO completions from being delivered`() {
        val pipe = fake.newPipe(executor)

        val read = executor.runCoroutine {
            val channel = Channel<Int>() // rendezvous: every send resumes the receiver and the other way round
            val sender = launch { while (true) channel.send(1) }
            val receiver = launch { while (true) channel.receive() }
            pipe.writeEnd().write(CURRENT_POSITION, byteArrayOf(9)).await()
            val count = pipe.readEnd().read(CURRENT_POSITION, ByteArray(1)).await()
            sender.cancel()
            receiver.cancel()
            count
        }

        assertEquals(1, read)
    }

    @Test
    fun `runCoroutine rethrows the coroutine's exception as it was thrown`() {
        val failure = assertThrows<IllegalArgumentException> {
            executor.runCoroutine {
                delay(1.milliseconds)
                throw IllegalArgumentException("from the coroutine")
            }
        }
        assertEquals("from the coroutine", failure.message)
    }

    @Test
    fun `runCoroutine refuses to block the loop it would have to drive`() {
        executor.runCoroutine {
            assertThrows<IllegalStateException> { executor.runCoroutine { 1 } }
        }
    }

    @Test
    fun `runCoroutine on a closed executor throws ExecutorClosedException`() {
        executor.close()
        assertThrows<ExecutorClosedException> { executor.runCoroutine { 1 } }
    }

    @Test
    fun `closing the executor cancels a coroutine waiting in delay, whose finally blocks still run`() {
        val scope = CoroutineScope(executor.dispatcher + Job())
        val waiting = CompletableFuture<Unit>()
        val finallyRan = AtomicBoolean()
        val job = scope.launch {
            try {
                waiting.complete(Unit)
                delay(1.hours)
            } finally {
                finallyRan.set(true)
            }
        }
        executor.runUntil(waiting)

        executor.close()

        runBlocking { withTimeout(30.seconds) { job.join() } } // bounds a hang; no timing is asserted
        assertTrue(job.isCancelled)
        assertTrue(finallyRan.get())
    }

    @Test
    fun `a coroutine queued on the loop when the executor closes is cancelled, not lost`() {
        val scope = CoroutineScope(executor.dispatcher)
        val started = AtomicBoolean()
        val job = scope.launch { started.set(true) } // queued from this thread; no loop runs yet

        executor.close()

        runBlocking { withTimeout(30.seconds) { job.join() } } // bounds a hang; no timing is asserted
        assertTrue(job.isCancelled)
        assertFalse(started.get())
    }

    @Test
    fun `runCoroutine whose delay or timeout a close cancels throws ExecutorClosedException every time`() {
        repeat(50) { round ->
            for (useTimeout in listOf(false, true)) {
                val other: RawExecutor<FakeReactor> = RawExecutor.create { FakeReactor() }
                val thrown = runCatching {
                    other.runCoroutine {
                        launch { other.close() } // a sibling closes the executor, from the loop thread
                        if (useTimeout) withTimeout(1.hours) { delay(2.hours) } else delay(1.hours)
                        "returned"
                    }
                }.exceptionOrNull()
                assertTrue(thrown is ExecutorClosedException, "round $round, timeout $useTimeout: $thrown")
            }
        }
    }

    @Test
    fun `running a discarded continuation that shutdownNow returned does nothing`() {
        val failures = java.util.concurrent.atomic.AtomicReference<Throwable>()
        val scope = CoroutineScope(executor.dispatcher + kotlinx.coroutines.CoroutineExceptionHandler { _, e ->
            failures.compareAndSet(null, e)
        })
        val job = scope.launch { } // queued; never runs on the loop
        val left = executor.shutdownNow()
        runBlocking { withTimeout(30.seconds) { job.join() } } // bounds a hang; no timing is asserted
        assertTrue(job.isCancelled)
        assertEquals(1, left.size)
        assertTrue((left[0] as java.util.concurrent.Future<*>).isCancelled)
        left[0].run() // like a cancelled FutureTask: nothing happens
        assertNull(failures.get())
    }

    @Test
    fun `runCoroutine refused because another thread runs the loop never runs the coroutine`() {
        val loop = Thread { executor.run() }
        loop.start()
        executor.submit {}.get(10, java.util.concurrent.TimeUnit.SECONDS) // the loop runs on the other thread
        val ran = AtomicBoolean()
        val refused = assertThrows<IllegalStateException> {
            executor.runCoroutine {
                ran.set(true)
                "result"
            }
        }
        assertTrue(refused.message!!.contains("another thread"), refused.message)
        executor.submit {}.get(10, java.util.concurrent.TimeUnit.SECONDS) // the other loop has passed the starter
        assertFalse(ran.get(), "the refused coroutine's body ran on the other thread's loop")
        executor.close()
        loop.join(10_000)
    }

    @Test
    fun `readFully and writeFully hand each call at most a mebibyte`() {
        val pipe = fake.newPipe(executor)
        val size = 5 * 1024 * 1024 + 17
        val message = ByteArray(size) { (it * 31).toByte() }
        val got = ByteArray(size)
        executor.runCoroutine {
            launch { pipe.writeEnd().writeFully(CURRENT_POSITION, message) }
            pipe.readEnd().readFully(CURRENT_POSITION, got)
        }
        assertArrayEquals(message, got)
        val largest = fake.operationLog().maxOf { it.length() }
        assertTrue(largest <= 1 shl 20, "a call was given $largest bytes")
    }

    @Test
    fun `dispatchers of one executor are equal, so withContext to it does not dispatch`() {
        assertEquals(executor.dispatcher, executor.dispatcher)
        assertEquals(executor.dispatcher.hashCode(), executor.dispatcher.hashCode())
        RawExecutor.create { FakeReactor() }.use { other -> assertFalse(other.dispatcher == executor.dispatcher) }

        executor.runCoroutine {
            val outer = Thread.currentThread()
            withContext(executor.dispatcher) { assertSame(outer, Thread.currentThread()) }
        }
    }

    @Test
    fun `cancelling a coroutine cancels the IO it awaits`() {
        val pipe = fake.newPipe(executor)
        val read = CompletableFuture<CompletableFuture<Int>>()

        executor.runCoroutine {
            val reader = launch {
                val operation = pipe.readEnd().read(CURRENT_POSITION, ByteArray(1))
                read.complete(operation)
                operation.await()
            }
            read.await()
            yield()
            reader.cancel(CancellationException("no longer needed"))
            reader.join()
        }

        assertTrue(read.join().isCancelled)
    }
}
