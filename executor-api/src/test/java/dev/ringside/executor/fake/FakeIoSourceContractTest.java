package dev.ringside.executor.fake;

import dev.ringside.executor.contract.IoSourceContract;
import dev.ringside.executor.contract.ReactorFixture;

class FakeIoSourceContractTest extends IoSourceContract<FakeReactor> {
    @Override
    protected ReactorFixture<FakeReactor> fixture() {
        return new FakeFixture();
    }
}
