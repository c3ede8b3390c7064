package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorFixture;
import dev.ringside.executor.contract.ReactorFixture;

/** {@link UringIoSourceContractTest} against io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN}. */
class UringSingleIssuerIoSourceContractTest extends UringIoSourceContractTest {
    private final DescriptorFixture<UringReactor> fixture = UringFixture.singleIssuer();

    @Override
    protected ReactorFixture<UringReactor> fixture() {
        return fixture;
    }
}
