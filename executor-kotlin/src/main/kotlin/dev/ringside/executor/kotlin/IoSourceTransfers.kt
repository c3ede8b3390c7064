package dev.ringside.executor.kotlin

import dev.ringside.executor.IoSource
import java.io.EOFException
import java.io.IOException
import java.nio.ByteBuffer
import kotlinx.coroutines.future.await

// Single operations need no wrapper: `source.read(offset, buffer).await()` suspends until the operation
// completes, and cancelling the coroutine cancels the operation's future, which asks the reactor to
// cancel it in the kernel (the operation keeps its memory until the kernel hands it back). The functions
// here add what one operation does not give: a transfer of a whole buffer across short reads and writes.

/**
 * Reads until [buffer] has no bytes remaining, with as many reads as it takes (reads may be short).
 *
 * [offset] is the file offset of the first byte; each next read continues where the previous one ended.
 * With [IoSource.CURRENT_POSITION] every read is at the descriptor's current position, as pipes and
 * sockets need. The buffer's position advances by each read's count, on the loop thread, before this
 * function resumes.
 *
 * Cancellation: cancelling the coroutine cancels the read in flight (see [IoSource]); the bytes of
 * reads already completed stay in [buffer] (its position says how many), and bytes the cancelled read
 * may have taken from a pipe or socket are lost.
 *
 * @throws EOFException if end of file (a read of 0 bytes) comes before the buffer is full; the buffer's
 *   position says how far it got
 * @throws dev.ringside.executor.ErrnoException if a read fails in the kernel
 */
public suspend fun IoSource.readFully(offset: Long, buffer: ByteBuffer) {
    var next = offset
    val start = buffer.position()
    while (buffer.hasRemaining()) {
        val count = inChunk(buffer) { read(next, buffer) }.await()
        if (count == 0) {
            throw EOFException(
                "readFully: end of file after ${buffer.position() - start} of ${buffer.limit() - start} bytes ($this)"
            )
        }
        if (next != IoSource.CURRENT_POSITION) {
            next += count
        }
    }
}

/**
 * Reads until [buffer] is full, like `readFully(offset, ByteBuffer.wrap(buffer))`.
 *
 * @throws EOFException if end of file comes first
 */
public suspend fun IoSource.readFully(offset: Long, buffer: ByteArray) {
    readFully(offset, ByteBuffer.wrap(buffer))
}

/**
 * Writes every remaining byte of [buffer], with as many writes as it takes (writes may be short).
 *
 * [offset] works as in [readFully]. The buffer's position advances by each write's count, on the loop
 * thread, before this function resumes. Each write copies the bytes it is given when it is issued, so
 * the caller may reuse [buffer] once this function returns.
 *
 * Cancellation: cancelling the coroutine cancels the write in flight; bytes of writes already completed
 * have been written (the buffer's position says how many), and the cancelled write may or may not have
 * written some.
 *
 * @throws IOException if a write completes having written nothing
 * @throws dev.ringside.executor.ErrnoException if a write fails in the kernel (`EPIPE` when a pipe's
 *   read end is closed)
 */
public suspend fun IoSource.writeFully(offset: Long, buffer: ByteBuffer) {
    var next = offset
    while (buffer.hasRemaining()) {
        val count = inChunk(buffer) { write(next, buffer) }.await()
        if (count == 0) {
            throw IOException("writeFully: a write of ${buffer.remaining()} bytes wrote nothing ($this)")
        }
        if (next != IoSource.CURRENT_POSITION) {
            next += count
        }
    }
}

/**
 * The most one read or write of [readFully]/[writeFully] is given. A heap buffer goes through native
 * memory of the size the call is given, copied for a write; a pipe or socket moves far less per call,
 * so giving each call everything remaining would allocate and copy the rest again for every call.
 */
private const val MAX_CALL_BYTES = 1 shl 20

/**
 * Issues [call] with [buffer]'s limit narrowed to at most [MAX_CALL_BYTES] remaining, then restores the
 * limit: the call sizes its memory (and copies a write's bytes) when it is issued.
 */
private inline fun <T> inChunk(buffer: ByteBuffer, call: () -> T): T {
    val limit = buffer.limit()
    buffer.limit(minOf(limit, buffer.position() + MAX_CALL_BYTES))
    try {
        return call()
    } finally {
        buffer.limit(limit)
    }
}

/** Writes all of [buffer], like `writeFully(offset, ByteBuffer.wrap(buffer))`. */
public suspend fun IoSource.writeFully(offset: Long, buffer: ByteArray) {
    writeFully(offset, ByteBuffer.wrap(buffer))
}
