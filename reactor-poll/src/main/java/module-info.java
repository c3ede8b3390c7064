/**
 * The epoll reactor: {@link dev.ringside.reactor.poll.EpollReactor}, offered to
 * {@code RawExecutor.createDefault()} as the fallback when io_uring is unavailable. It makes its system
 * calls through {@code dev.ringside.executor.linux}, so only that module needs
 * {@code --enable-native-access}.
 */
module dev.ringside.reactor.poll {
    requires transitive dev.ringside.executor;

    exports dev.ringside.reactor.poll;

    provides dev.ringside.executor.ReactorProvider with dev.ringside.reactor.poll.EpollReactorProvider;
}
