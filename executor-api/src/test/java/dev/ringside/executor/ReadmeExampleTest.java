package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakePipe;
import dev.ringside.executor.fake.FakeReactor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's usage example, compiled and run; the README must quote it verbatim. */
class ReadmeExampleTest {

    @Test
    void theExampleRunsAndTheReadmeQuotesIt() throws Exception {
        String greeting = example();
        assertEquals("hello after an hour", greeting);

        String source = Files.readString(Path.of("src/test/java/dev/ringside/executor/ReadmeExampleTest.java"));
        String snippet = source.substring(source.indexOf("// README-BEGIN\n") + "// README-BEGIN\n".length(),
                source.indexOf("        // README-END\n"));
        String quoted = snippet.lines().map(line -> line.length() > 8 ? line.substring(8) : line.strip())
                .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(readme.contains("```java\n" + quoted + "```"), "README.md must quote the example verbatim:\n" + quoted);
    }

    private static String example() throws Exception {
        // README-BEGIN
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            FakePipe pipe = executor.reactor().newPipe(executor);
            byte[] received = new byte[5];
            Task<String> task = executor.spawn(() ->
                    pipe.writeEnd().write(IoSource.CURRENT_POSITION, "hello".getBytes(StandardCharsets.UTF_8))
                            .thenCompose(written -> executor.sleep(Duration.ofHours(1)))   // virtual time
                            .thenCompose(slept -> pipe.readEnd().read(IoSource.CURRENT_POSITION, received))
                            .thenApply(n -> new String(received, 0, n, StandardCharsets.UTF_8) + " after an hour"));
            return executor.runUntil(task);   // drives the loop on this thread until the task completes
        }
        // README-END
    }
}
