package dev.ringside.reactor.poll;

import dev.ringside.executor.contract.IoSourceContract;
import dev.ringside.executor.contract.ReactorFixture;

class EpollIoSourceContractTest extends IoSourceContract<EpollReactor> {
    private final EpollFixture fixture = new EpollFixture();

    @Override
    protected ReactorFixture<EpollReactor> fixture() {
        return fixture;
    }
}
