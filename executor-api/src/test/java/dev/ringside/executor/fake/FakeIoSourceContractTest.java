package dev.ringside.executor.fake;

import dev.ringside.executor.contract.IoSourceContract;
import dev.ringside.executor.contract.ReactorFixture;

class FakeIoSourceContractTest extends IoSourceContract<FakeReactor> {
    private final FakeFixture fixture = new FakeFixture();

    @Override
    protected ReactorFixture<FakeReactor> fixture() {
        return fixture;
    }
}
