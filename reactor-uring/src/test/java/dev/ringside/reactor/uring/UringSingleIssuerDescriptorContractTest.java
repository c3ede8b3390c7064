package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorFixture;

/** {@link UringDescriptorContractTest} against io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN}. */
class UringSingleIssuerDescriptorContractTest extends UringDescriptorContractTest {
    private final DescriptorFixture<UringReactor> fixture = UringFixture.singleIssuer();

    @Override
    protected DescriptorFixture<UringReactor> fixture() {
        return fixture;
    }
}
