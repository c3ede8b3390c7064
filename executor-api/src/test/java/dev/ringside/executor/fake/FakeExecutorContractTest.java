package dev.ringside.executor.fake;

import dev.ringside.executor.contract.ExecutorContract;
import dev.ringside.executor.contract.ReactorFixture;

class FakeExecutorContractTest extends ExecutorContract<FakeReactor> {
    private final FakeFixture fixture = new FakeFixture();

    @Override
    protected ReactorFixture<FakeReactor> fixture() {
        return fixture;
    }
}
