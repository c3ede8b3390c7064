/**
 * ringside's executor: {@link dev.ringside.executor.RawExecutor}, the {@link dev.ringside.executor.Reactor}
 * SPI, IO sources and the memory the kernel reads and writes, and the fake reactor for tests.
 *
 * <p>Only {@code dev.ringside.executor} and {@code dev.ringside.executor.fake} are API. The FFM layer,
 * {@code dev.ringside.executor.linux}, is exported only to the reactor modules; this module and those
 * are the only ones that need {@code --enable-native-access}.
 */
module dev.ringside.executor {
    requires org.jctools.core;

    exports dev.ringside.executor;
    exports dev.ringside.executor.fake;
    exports dev.ringside.executor.linux to dev.ringside.reactor.uring, dev.ringside.reactor.poll;

    uses dev.ringside.executor.ReactorProvider;
}
