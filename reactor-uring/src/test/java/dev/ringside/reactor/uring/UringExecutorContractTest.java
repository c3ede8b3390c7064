package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.ExecutorContract;
import dev.ringside.executor.contract.ReactorFixture;

class UringExecutorContractTest extends ExecutorContract<UringReactor> {
    private final UringFixture fixture = new UringFixture();

    @Override
    protected ReactorFixture<UringReactor> fixture() {
        return fixture;
    }
}
