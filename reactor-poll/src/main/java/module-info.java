/**
 * The epoll reactor. Its implementation lands with the "epoll reactor over FFM" issue; until then
 * the module only declares its place in the module graph.
 */
module dev.ringside.reactor.poll {
    requires dev.ringside.executor;
}
