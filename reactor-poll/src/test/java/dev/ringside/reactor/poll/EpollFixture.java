package dev.ringside.reactor.poll;

import dev.ringside.executor.contract.DescriptorFixture;

/** The contract suite's view of {@link EpollReactor}: real pipes and real files. */
final class EpollFixture extends DescriptorFixture<EpollReactor> {

    EpollFixture() {
        super("epoll", EpollReactor::new, EpollReactor::unavailabilityCause);
    }

    static void assumeReactorAvailable() {
        new EpollFixture().assumeAvailable();
    }
}
