package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorFixture;

/** The contract suite's view of {@link UringReactor}: real pipes and real files. */
final class UringFixture extends DescriptorFixture<UringReactor> {

    UringFixture() {
        super("io_uring", UringReactor::new, UringReactor::unavailabilityCause);
    }

    static void assumeReactorAvailable() {
        new UringFixture().assumeAvailable();
    }
}
