package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.DescriptorContract;
import dev.ringside.executor.contract.DescriptorFixture;

class UringDescriptorContractTest extends DescriptorContract<UringReactor> {
    private final UringFixture fixture = new UringFixture();

    @Override
    protected DescriptorFixture<UringReactor> fixture() {
        return fixture;
    }

    @Override
    protected int operationsInFlight(UringReactor reactor) {
        return reactor.operationsInFlight();
    }
}
