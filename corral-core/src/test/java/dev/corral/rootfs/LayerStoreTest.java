package dev.corral.rootfs;

import dev.corral.ids.RangeAllocator;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LayerStoreTest {
    @Test
    void theDefaultStateDirectoryIsWhereIdsJsonIs() {
        assertThat(LayerStore.defaultStateDir()).isEqualTo(RangeAllocator.defaultStateFile().getParent());
    }

    @Test
    void namesAreOnePathComponent() {
        LayerStore store = new LayerStore(Path.of("/var/lib/corral"));
        assertThat(store.base("alpine-3.20")).isEqualTo(Path.of("/var/lib/corral/bases/alpine-3.20"));
        assertThat(store.named("web").upper()).isEqualTo(Path.of("/var/lib/corral/layers/web/upper"));
        for (String bad : new String[] {"..", ".hidden", "a/b", "", "-x", "a".repeat(129)}) {
            assertThat(LayerStore.nameProblem(bad)).as(bad).isNotNull();
            assertThatThrownBy(() -> store.named(bad)).isInstanceOf(IllegalArgumentException.class);
        }
        LayerStore.Layer run = store.temporary(false);
        assertThat(run.dir().getFileName().toString()).matches("run-" + ProcessHandle.current().pid() + "-[0-9a-f]{8}");
        assertThat(run.temporary()).isTrue();
        assertThat(store.temporary(true).dir().getFileName().toString()).endsWith("-XXXXXXXX");
    }
}
