package dev.ringside.reactor.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The slot table's bookkeeping (no kernel involved). */
class OpTableTest {

    @Test
    void anOperationIsSubmittedAgainAtMostMaxResubmissionsTimesAndAFreshSlotStartsAtZero() {
        OpTable table = new OpTable(1);
        int index = table.add(null, OpTable.STREAM, null);
        for (int i = 0; i < OpTable.MAX_RESUBMISSIONS; i++) {
            assertTrue(table.resubmit(index), "resubmission " + (i + 1));
        }
        assertFalse(table.resubmit(index), "one more ECANCELED is the operation's result");
        long stale = table.userData(index);
        table.remove(index);
        int again = table.add(null, OpTable.STREAM, null);
        assertEquals(index, again, "the one slot is reused");
        assertNotEquals(stale, table.userData(again), "under a new generation");
        assertNull(table.get(stale), "the old user_data names nothing");
        assertTrue(table.resubmit(again), "the new operation starts with no resubmissions");
    }
}
