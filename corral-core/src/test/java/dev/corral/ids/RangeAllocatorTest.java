package dev.corral.ids;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The allocator on a real file: no jails here (IdRangeJailTest runs them). */
class RangeAllocatorTest {
    static final long BASE = 0x20000, SLOT = IdRange.SIZE;

    @TempDir
    Path dir;

    RangeAllocator allocator(int slots) {
        return new RangeAllocator(dir.resolve("state/ids.json"), IdPool.of(BASE, slots * SLOT));
    }

    @Test
    void aNameKeepsItsRangeAcrossInstancesAndTwoNamesNeverShare() throws Exception {
        RangeAllocator a = allocator(4);
        IdRange web = a.allocate("web");
        IdRange db = a.allocate("db");
        assertThat(web).isEqualTo(new IdRange(BASE, BASE));
        assertThat(db).isEqualTo(new IdRange(BASE + SLOT, BASE + SLOT));
        assertThat(a.allocate("web")).isEqualTo(web);
        // A new allocator on the same file (a restarted daemon) sees the same ranges.
        RangeAllocator again = allocator(4);
        assertThat(again.allocate("db")).isEqualTo(db);
        assertThat(again.allocate("web")).isEqualTo(web);
        assertThat(again.find("cache")).isEmpty();
        assertThat(again.allocations()).extracting(RangeAllocator.Allocation::name).containsExactly("web", "db");
        JsonNode file = new ObjectMapper().readTree(Files.readString(dir.resolve("state/ids.json")));
        assertThat(file.path("version").asInt()).isEqualTo(1);
        assertThat(file.path("size").asLong()).isEqualTo(65536);
        assertThat(file.path("allocations").get(0).path("name").asText()).isEqualTo("web");
        assertThat(file.path("allocations").get(0).path("uid").asLong()).isEqualTo(BASE);
        assertThat(Files.getPosixFilePermissions(dir.resolve("state/ids.json"))).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(dir.resolve("state/.ids.json.tmp")).doesNotExist();
    }

    @Test
    void releaseFreesTheRangeForTheNextName() throws Exception {
        RangeAllocator a = allocator(2);
        IdRange web = a.allocate("web");
        a.allocate("db");
        assertThat(a.release("web")).isTrue();
        assertThat(a.release("web")).isFalse();
        assertThat(a.allocate("cache")).isEqualTo(web);
    }

    @Test
    void anExhaustedPoolSaysSoAndNamesTheHolders() throws Exception {
        RangeAllocator a = allocator(2);
        a.allocate("web");
        a.allocate("db");
        assertThatThrownBy(() -> a.allocate("cache")).isInstanceOf(IdAllocationException.class)
                .hasMessage("the id pool is exhausted: no free range of 65536 ids left in ids 131072:131072 (2 ranges);"
                        + " held by \"web\", \"db\" (recorded in " + dir.resolve("state/ids.json")
                        + "); release one or give a larger pool");
        assertThat(a.find("cache")).isEmpty();
    }

    @Test
    void thePoolIsCutInto65536IdSlotsFromEachRangesStart() {
        IdPool p = new IdPool(List.of(new SubIdRange(300000, 200000), new SubIdRange(1000000, 65535)),
                List.of(new SubIdRange(400000, 65536), new SubIdRange(900000, 65536)));
        assertThat(p.slots()).isEqualTo(2); // 3 uid slots (the second range is one id short), 2 gid slots
        assertThat(p.slot(0)).isEqualTo(new IdRange(300000, 400000));
        assertThat(p.slot(1)).isEqualTo(new IdRange(365536, 900000));
        assertThat(p.describe()).isEqualTo("uids 300000:200000, 1000000:65535, gids 400000:65536, 900000:65536 (2 ranges)");
        assertThatThrownBy(() -> IdPool.of(List.of(new SubIdRange(0, 100), new SubIdRange(50, 100))))
                .hasMessageContaining("overlap");
        assertThat(IdPool.parseRange("131072:655360")).isEqualTo(new SubIdRange(131072, 655360));
        assertThatThrownBy(() -> IdPool.parseRange("131072")).hasMessage("expected START:COUNT");
    }

    @Test
    void aNewRangeKeepsClearOfIdsToAvoid() throws Exception {
        RangeAllocator a = allocator(3);
        // Another jail maps gids of the first slot explicitly.
        IdRange r = a.allocate("web", List.of(), List.of(new SubIdRange(BASE + 10, 1)));
        assertThat(r).isEqualTo(new IdRange(BASE + SLOT, BASE + SLOT));
    }

    @Test
    void leasesAreDistinctAndFreeAgainWhenClosed() throws Exception {
        RangeAllocator a = allocator(2);
        RangeAllocator.Lease one = a.lease();
        RangeAllocator.Lease two = a.lease();
        assertThat(one.range()).isNotEqualTo(two.range());
        assertThat(a.allocations()).extracting(RangeAllocator.Allocation::pid).containsOnly(ProcessHandle.current().pid());
        assertThatThrownBy(a::lease).hasMessageContaining("held by a jail started by pid " + ProcessHandle.current().pid());
        one.close();
        one.close();
        assertThat(a.allocations()).hasSize(1);
        assertThat(a.peek(null)).isEqualTo(one.range());
        assertThat(a.allocations()).as("peek records nothing").hasSize(1);
        two.close();
        assertThat(a.allocations()).isEmpty();
    }

    @Test
    void aLeaseOfADeadOrReplacedProcessIsFree() throws Exception {
        Process done = new ProcessBuilder("true").start();
        done.waitFor();
        long self = ProcessHandle.current().pid();
        long selfStart = RangeAllocator.startTime(self).orElseThrow();
        Files.createDirectories(dir.resolve("state"));
        Files.writeString(dir.resolve("state/ids.json"), """
                {"version": 1, "size": 65536, "allocations": [
                  {"uid": 131072, "gid": 131072, "pid": %d, "start_time": 1},
                  {"uid": 196608, "gid": 196608, "pid": %d, "start_time": %d},
                  {"uid": 262144, "gid": 262144, "pid": %d, "start_time": %d}]}
                """.formatted(done.pid(), self, selfStart - 1, self, selfStart));
        RangeAllocator a = allocator(4);
        // The first owner is gone; the second pid is now another process (started at another time).
        assertThat(a.allocations()).extracting(al -> al.range().uid()).containsExactly(262144L);
        assertThat(a.allocate("web").uid()).isEqualTo(131072);
        assertThat(a.allocate("db").uid()).isEqualTo(196608);
        assertThat(a.allocate("cache").uid()).isEqualTo(327680);
        assertThat(Files.readString(dir.resolve("state/ids.json"))).doesNotContain("\"start_time\" : 1,");
    }

    @Test
    void manyThreadsNeverGetOneRangeTwice() throws Exception {
        RangeAllocator a = allocator(32);
        List<Callable<IdRange>> work = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            String name = "app" + i;
            // Each thread its own allocator on the same file, as separate processes would have.
            work.add(() -> i(name));
        }
        Set<IdRange> got = new HashSet<>();
        try (var exec = Executors.newFixedThreadPool(8)) {
            for (Future<IdRange> f : exec.invokeAll(work)) got.add(f.get());
        }
        assertThat(got).hasSize(32);
        assertThat(a.allocations()).hasSize(32);
    }

    private IdRange i(String name) throws IdAllocationException {
        return allocator(32).allocate(name);
    }

    @Test
    void aDamagedFileIsReportedAndLeftAlone() throws Exception {
        Files.createDirectories(dir.resolve("state"));
        Files.writeString(dir.resolve("state/ids.json"), "{\"version\": 1, \"size\": 65536, \"allocations\": [{\"name\": \"web\"}]}");
        assertThatThrownBy(() -> allocator(2).allocate("db")).isInstanceOf(IdAllocationException.class)
                .hasMessageContaining("the id allocation file " + dir.resolve("state/ids.json") + " is damaged")
                .hasMessageContaining("bad \"uid\"");
        assertThat(Files.readString(dir.resolve("state/ids.json"))).contains("\"web\"");
    }

    @Test
    void withoutSubordinateIdsTheDefaultPoolSaysHowToAddSome() throws Exception {
        Files.writeString(dir.resolve("subuid"), "nobody:300000:65536\nroot:100000:1000\n");
        Files.writeString(dir.resolve("subgid"), "nobody:300000:65536\n");
        assertThatThrownBy(() -> IdPool.ofUser(dir.resolve("subuid"), dir.resolve("subgid"), "root", 0))
                .hasMessage("no id pool: " + dir.resolve("subuid") + " and " + dir.resolve("subgid") + " give root no range of"
                        + " 65536 ids (100000:1000 / none); add one, e.g. `usermod --add-subuids 1000000-1999999"
                        + " --add-subgids 1000000-1999999 root`, or give a pool explicitly (--id-pool START:COUNT, or"
                        + " \"id_pool\" in the daemon's configuration)");
        IdPool nobody = IdPool.ofUser(dir.resolve("subuid"), dir.resolve("subgid"), "nobody", 65534);
        assertThat(nobody.slots()).isEqualTo(1);
        assertThat(nobody.slot(0)).isEqualTo(new IdRange(300000, 300000));
    }
}
