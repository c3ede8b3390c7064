package dev.ringside.executor;

import java.nio.file.OpenOption;

/** Linux-specific options for {@link Fd#open}, beyond {@link java.nio.file.StandardOpenOption}. */
public enum LinuxOpenOption implements OpenOption {
    /**
     * {@code O_DIRECT}: bypass the page cache. Buffers, offsets and lengths must then be aligned to the
     * device's logical block size, or reads and writes fail with {@code EINVAL}; file systems without
     * direct IO (tmpfs) refuse the open with {@code EINVAL}.
     */
    DIRECT,
    /** {@code O_NOATIME}: do not update the access time; only the file's owner may ask ({@code EPERM}). */
    NOATIME
}
