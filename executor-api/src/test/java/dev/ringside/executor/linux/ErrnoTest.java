package dev.ringside.executor.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void symbolsAndDescriptionsOfCommonNumbers() {
        assertEquals("EPERM", Errno.symbol(1));
        assertEquals("ENOENT", Errno.symbol(2));
        assertEquals("EBADF", Errno.symbol(9));
        assertEquals("Bad file descriptor", Errno.description(9));
        assertEquals("EAGAIN", Errno.symbol(Errno.EWOULDBLOCK));
        assertEquals("Resource temporarily unavailable", Errno.description(11));
        assertEquals("ECANCELED", Errno.symbol(125));
        assertEquals("Operation canceled", Errno.description(125));
        assertEquals("ETIME", Errno.symbol(62));
        assertEquals("EHWPOISON", Errno.symbol(133));
        assertEquals("Memory page has hardware error", Errno.description(133));
        assertEquals("ENOTSUPP", Errno.symbol(524));
    }

    @Test
    void unknownNumbersGetAFallback() {
        assertEquals("E4000", Errno.symbol(4000));
        assertEquals("Unknown error 4000", Errno.description(4000));
        assertEquals("E41", Errno.symbol(41)); // unused slot in the Linux table
        assertEquals("E134", Errno.symbol(134));
        assertEquals("E-3", Errno.symbol(-3));
        assertEquals("Success", Errno.description(0));
        assertFalse(Errno.isKnown(0));
        assertFalse(Errno.isKnown(58));
        assertTrue(Errno.isKnown(133));
    }

    @Test
    void tableCoversTheGenericLinuxRangeWithDistinctSymbols() {
        Set<String> seen = new HashSet<>();
        for (int errno = 1; errno <= 133; errno++) {
            if (errno == 41 || errno == 58) {
                assertFalse(Errno.isKnown(errno), "unused number " + errno);
                continue;
            }
            assertTrue(Errno.isKnown(errno), "missing " + errno);
            String symbol = Errno.symbol(errno);
            assertTrue(symbol.matches("E[A-Z0-9]+"), symbol);
            assertTrue(seen.add(symbol), "duplicate " + symbol);
            assertFalse(Errno.description(errno).startsWith("Unknown"), symbol);
        }
    }

    /** Every public constant's name is the symbol of its own value (EWOULDBLOCK aliases EAGAIN). */
    @Test
    void constantsAgreeWithTheTable() throws IllegalAccessException {
        List<String> checked = new ArrayList<>();
        for (Field field : Errno.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
                int value = field.getInt(null);
                String expected = field.getName().equals("EWOULDBLOCK") ? "EAGAIN" : field.getName();
                assertEquals(expected, Errno.symbol(value), field.getName());
                checked.add(field.getName());
            }
        }
        assertTrue(checked.size() > 40, "constants checked: " + checked);
    }

    /** Where the C library is glibc, the descriptions read exactly as its strerror. */
    @Test
    @SuppressWarnings("restricted")
    void descriptionsMatchGlibcStrerror() throws Throwable {
        Linker linker = Linker.nativeLinker();
        assumeTrue(linker.defaultLookup().find("gnu_get_libc_version").isPresent(), "C library is not glibc");
        MethodHandle strerror = linker.downcallHandle(linker.defaultLookup().find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        String ebadf = ((MemorySegment) strerror.invokeExact(Errno.EBADF)).reinterpret(512).getString(0);
        assumeTrue(ebadf.equals("Bad file descriptor"), "strerror is localised: " + ebadf);
        for (int errno = 1; errno <= 133; errno++) {
            if (!Errno.isKnown(errno)) {
                continue;
            }
            MemorySegment text = (MemorySegment) strerror.invokeExact(errno);
            assertEquals(text.reinterpret(512).getString(0), Errno.description(errno), Errno.symbol(errno));
        }
    }
}
