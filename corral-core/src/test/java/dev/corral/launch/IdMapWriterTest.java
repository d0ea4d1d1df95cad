package dev.corral.launch;

import dev.corral.plan.IdMapPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.spec.IdMapping;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the monitor is told to write into /proc/PID/ (OP_ID_MAPS): file, content, in the kernel's order. */
class IdMapWriterTest {
    private static final List<IdMapping> SELF = List.of(new IdMapping(0, 1000, 1, "uidMap"));

    @Test
    void aNormalUsersSelfMapDeniesSetgroupsBeforeTheGidMap() {
        Step s = IdMapWriter.monitorStep(new IdMapPlan(SELF, List.of(new IdMapping(0, 1000, 1, "gidMap")), true, false));
        assertThat(s.op()).isEqualTo(Op.ID_MAPS);
        assertThat(s.args()).containsExactly("setgroups", "deny", "gid_map", "0 1000 1\n", "uid_map", "0 1000 1\n");
    }

    @Test
    void rootWritesEveryRangeOneLineEach() {
        List<IdMapping> two = List.of(new IdMapping(0, 100000, 1000, "uidMap"), new IdMapping(1000, 0, 1, "uidMap"));
        Step s = IdMapWriter.monitorStep(new IdMapPlan(two, two, false, false));
        assertThat(s.args()).containsExactly("gid_map", "0 100000 1000\n1000 0 1\n", "uid_map", "0 100000 1000\n1000 0 1\n");
    }

    @Test
    void withoutAUserNamespaceThereIsNothingToWriteAndTheMonitorGoesOn() {
        assertThat(IdMapWriter.monitorStep(null).args()).isEmpty();
    }

    @Test
    void mapsForTheHelpersAreNotTheMonitors() {
        assertThatThrownBy(() -> IdMapWriter.monitorStep(new IdMapPlan(SELF, SELF, false, true)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
