package dev.ringside.executor.fake;

import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.contract.ReactorFixture;
import java.util.function.UnaryOperator;

/** The contract suite's view of {@link FakeReactor}. */
final class FakeFixture implements ReactorFixture<FakeReactor> {

    @Override
    public RawExecutor<FakeReactor> newExecutor(UnaryOperator<RawExecutor.Builder<FakeReactor>> settings)
            throws java.io.IOException {
        return settings.apply(RawExecutor.builder(FakeReactor::new)).build();
    }

    @Override
    public PipeEnds newPipe(RawExecutor<FakeReactor> executor) {
        FakePipe pipe = executor.reactor().newPipe(executor, 4096);
        return new PipeEnds(pipe.readEnd(), pipe.writeEnd());
    }

    @Override
    public FileUnderTest newFile(RawExecutor<FakeReactor> executor, byte[] contents) {
        FakeFile file = executor.reactor().newFile(contents);
        IoSource source = executor.reactor().open(executor, file);
        return new FileUnderTest() {
            @Override
            public IoSource source() {
                return source;
            }

            @Override
            public byte[] contents() {
                return file.contents();
            }
        };
    }

    @Override
    public void fill(PipeEnds pipe) {
        pipe.writeEnd().executor().runUntil(pipe.writeEnd().write(-1, new byte[4096]));
    }

    @Override
    public boolean virtualTime() {
        return true;
    }
}
