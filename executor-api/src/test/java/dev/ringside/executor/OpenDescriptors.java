package dev.ringside.executor;

import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Test helpers that look at this process's descriptor table. */
public final class OpenDescriptors {
    private OpenDescriptors() {}

    /** How many descriptors this process has open, from {@code /proc/self/fd} (the listing's own included). */
    public static long count() {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code fcntl(fd, F_GETFD)}: the descriptor flags, or {@code -errno} ({@code -EBADF} if not open). */
    public static int descriptorFlags(int fd) {
        return LibC.fcntl(fd, Linux.F_GETFD, 0);
    }

    /** {@code fcntl(fd, F_GETFL)}: the file status flags, or {@code -errno}. */
    public static int statusFlags(int fd) {
        return LibC.fcntl(fd, Linux.F_GETFL, 0);
    }
}
