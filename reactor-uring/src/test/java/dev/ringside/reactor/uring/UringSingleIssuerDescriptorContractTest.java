package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorFixture;
import dev.ringside.executor.contract.DescriptorContract;

/** The contract suite against io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN}. */
class UringSingleIssuerDescriptorContractTest extends DescriptorContract<UringReactor> {
    private final DescriptorFixture<UringReactor> fixture = UringFixture.singleIssuer();

    @Override
    protected DescriptorFixture<UringReactor> fixture() {
        return fixture;
    }

    @Override
    protected int operationsInFlight(UringReactor reactor) {
        return reactor.operationsInFlight();
    }
}
