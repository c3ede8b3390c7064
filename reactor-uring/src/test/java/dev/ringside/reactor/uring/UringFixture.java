package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorFixture;

/** The contract suite's view of {@link UringReactor}: real pipes and real files. */
final class UringFixture extends DescriptorFixture<UringReactor> {

    UringFixture() {
        super("io_uring", UringReactor::new, UringReactor::unavailabilityCause);
    }

    /**
     * io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN} ({@code singleIssuer(true)}): the loop is bound
     * to the first thread that runs it.
     */
    static DescriptorFixture<UringReactor> singleIssuer() {
        return new DescriptorFixture<>("io_uring (single issuer)", UringReactor.builder().singleIssuer(true).factory(),
                UringReactor::unavailabilityCause, false);
    }

    static void assumeReactorAvailable() {
        new UringFixture().assumeAvailable();
    }
}
