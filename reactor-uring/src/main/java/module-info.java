/**
 * The io_uring reactor: {@link dev.ringside.reactor.uring.UringReactor}, offered to
 * {@code RawExecutor.createDefault()} as the preferred reactor. Needs {@code --enable-native-access}.
 */
module dev.ringside.reactor.uring {
    requires transitive dev.ringside.executor;

    exports dev.ringside.reactor.uring;

    provides dev.ringside.executor.ReactorProvider with dev.ringside.reactor.uring.UringReactorProvider;
}
