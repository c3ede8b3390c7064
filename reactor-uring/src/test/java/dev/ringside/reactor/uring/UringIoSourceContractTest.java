package dev.ringside.reactor.uring;

import dev.ringside.executor.contract.IoSourceContract;
import dev.ringside.executor.contract.ReactorFixture;

class UringIoSourceContractTest extends IoSourceContract<UringReactor> {
    private final UringFixture fixture = new UringFixture();

    @Override
    protected ReactorFixture<UringReactor> fixture() {
        return fixture;
    }
}
