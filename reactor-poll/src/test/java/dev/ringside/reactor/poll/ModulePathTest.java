package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.RawExecutor;
import dev.ringside.reactor.uring.UringReactor;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jctools.queues.MessagePassingQueue;
import org.junit.jupiter.api.Test;

/**
 * The modules on the module path, as users run them: only {@code dev.ringside.executor} and the two
 * reactor modules get native access, and {@code --illegal-native-access=deny} makes any other module's
 * restricted call an error. Both reactors are found by {@code ServiceLoader} through {@code provides}.
 */
class ModulePathTest {

    @Test
    void theModulesRunOnTheModulePathWithNativeAccessOnlyWhereDeclared() throws Exception {
        String modulePath = String.join(File.pathSeparator, location(RawExecutor.class), location(UringReactor.class),
                location(EpollReactor.class), location(MessagePassingQueue.class));
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = List.of(java,
                "--module-path", modulePath,
                "--add-modules", "ALL-MODULE-PATH",
                "--enable-native-access=dev.ringside.executor,dev.ringside.reactor.uring,dev.ringside.reactor.poll",
                "--illegal-native-access=deny",
                "-cp", location(ModulePathTest.class),
                dev.ringside.modulecheck.ModulePathMain.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM finished");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("named module dev.ringside.executor"), output);
        assertTrue(output.contains("reactor UringReactor"), "io_uring works with only its module's grant:\n" + output);
        assertTrue(output.contains("read 4 bytes: ping"), output);
        assertTrue(!output.contains("WARNING: A restricted method"), "no other module made a restricted call:\n" + output);
    }

    private static String location(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
