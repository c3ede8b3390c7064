package dev.ringside.reactor.poll;

import dev.ringside.executor.contract.ExecutorContract;
import dev.ringside.executor.contract.ReactorFixture;

class EpollExecutorContractTest extends ExecutorContract<EpollReactor> {
    private final EpollFixture fixture = new EpollFixture();

    @Override
    protected ReactorFixture<EpollReactor> fixture() {
        return fixture;
    }
}
