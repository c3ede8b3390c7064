package dev.ringside.executor.fake;

import dev.ringside.executor.contract.ExecutorContract;
import dev.ringside.executor.contract.ReactorFixture;

class FakeExecutorContractTest extends ExecutorContract<FakeReactor> {
    @Override
    protected ReactorFixture<FakeReactor> fixture() {
        return new FakeFixture();
    }
}
