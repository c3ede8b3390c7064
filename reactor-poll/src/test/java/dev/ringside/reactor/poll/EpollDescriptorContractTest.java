package dev.ringside.reactor.poll;

import dev.ringside.executor.contract.DescriptorContract;
import dev.ringside.executor.contract.DescriptorFixture;

class EpollDescriptorContractTest extends DescriptorContract<EpollReactor> {
    private final EpollFixture fixture = new EpollFixture();

    @Override
    protected DescriptorFixture<EpollReactor> fixture() {
        return fixture;
    }

    @Override
    protected int operationsInFlight(EpollReactor reactor) {
        return reactor.operationsInFlight();
    }
}
