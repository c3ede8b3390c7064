/**
 * The io_uring reactor. Its implementation lands with the "io_uring reactor over FFM" issue; until
 * then the module only declares its place in the module graph.
 */
module dev.ringside.reactor.uring {
    requires dev.ringside.executor;
}
