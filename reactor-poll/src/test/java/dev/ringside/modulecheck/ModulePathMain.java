package dev.ringside.modulecheck;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import java.nio.charset.StandardCharsets;

/**
 * Runs in the child JVM of {@code ModulePathTest}, in the unnamed module (in a package of its own: a
 * class path class cannot share a package with a named module), calling the ringside modules.
 */
public final class ModulePathMain {
    private ModulePathMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("named module " + RawExecutor.class.getModule().getName());
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            System.out.println("reactor " + executor.reactor().getClass().getSimpleName());
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, "ping".getBytes(StandardCharsets.UTF_8)));
            byte[] into = new byte[4];
            int n = executor.runUntil(readEnd.read(IoSource.CURRENT_POSITION, into));
            System.out.println("read " + n + " bytes: " + new String(into, 0, n, StandardCharsets.UTF_8));
            readEnd.close();
            writeEnd.close();
        }
    }
}
