package org.culoss;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The loss classes read their tensors by slot constants; each declaration checks, when its class
 * loads, that every constant is the slot it declared. Loading every declaration here runs those
 * checks, and a wrong constant is refused.
 */
class DeclaredSlotsTest {
    @Test
    void everyDeclarationLoadsAndAWrongSlotIsRefused() {
        List<Op<?>> ops = new ArrayList<>();
        for (LossDeclaration<?> d : Declarations.all()) {
            ops.addAll(d.forms());
            ops.addAll(d.inPlaceOps);
        }
        assertTrue(ops.size() >= 8, "every loss's operations: " + ops);
        for (Op<?> op : ops) {
            for (Operand o : op.operands) {
                op.requireSlot(o.name, o.slot);
                int wrong = (o.slot + 1) % op.operands.size();
                assertThrows(IllegalStateException.class, () -> op.requireSlot(o.name, wrong), op + "." + o.name);
            }
            for (int i = 0; i < op.sizeNames.size(); i++) {
                op.requireSize(op.sizeNames.get(i), i);
                int wrong = i + 1;
                String size = op.sizeNames.get(i);
                assertThrows(IllegalStateException.class, () -> op.requireSize(size, wrong), op + " size " + size);
            }
        }
    }
}
