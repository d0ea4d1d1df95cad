package dev.corral.join;

import dev.corral.JailSetupException;
import dev.corral.seccomp.SeccompFilters;
import dev.corral.spec.Capability;
import dev.corral.spec.Hardening;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.sys.NativeException;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What a joining process is held to, from what /proc says of the program and what its spec said. */
class ConfinementTest {
    private static final long ALL = (1L << 41) - 1;

    /** A program in a user namespace mapping 0..65535 to 100000.., running as host uid 101000. */
    private static ProcessFacts program(long capBound, long capPrm, long capAmb, boolean nnp, int seccomp, long nofile) {
        Map<Rlimit.Resource, long[]> limits = new EnumMap<>(Rlimit.Resource.class);
        for (Rlimit.Resource r : Rlimit.Resource.values()) limits.put(r, new long[] {-1, -1});
        limits.put(Rlimit.Resource.NOFILE, new long[] {nofile, nofile});
        List<long[]> map = List.<long[]>of(new long[] {0, 100000, 65536});
        return new ProcessFacts(4242, "app", 1, 101000, 101000, List.of(100050L, 5L), capBound, capPrm, capAmb, nnp,
                seccomp, limits, Map.of(), "", map, map);
    }

    private static Map<Rlimit.Resource, long[]> own() {
        Map<Rlimit.Resource, long[]> own = new EnumMap<>(Rlimit.Resource.class);
        for (Rlimit.Resource r : Rlimit.Resource.values()) own.put(r, new long[] {-1, -1});
        own.put(Rlimit.Resource.NOFILE, new long[] {1024, 4096});
        return own;
    }

    private static final Confinement.FilterSource NONE = pid -> { throw new NativeException("ptrace", 1); };

    @Test
    void theSpecsHardeningNarrowedToWhatTheProgramHolds() throws Exception {
        long dropped = ~(1L << Capability.KILL.number()); // the program gave up CAP_KILL itself
        Confinement c = Confinement.of(program(ALL & dropped, ALL & dropped, 0, false, 2, 100), Hardening.DEFAULT, own(), NONE);
        assertThat(c.uid()).isEqualTo(1000);
        assertThat(c.gid()).isEqualTo(1000);
        assertThat(c.groups()).containsExactly(50L); // host gid 5 is not mapped inside
        long want = Capability.mask(Capability.DEFAULT) & dropped;
        assertThat(c.bound()).isEqualTo(want);
        assertThat(c.caps()).isEqualTo(want);
        assertThat(c.noNewPrivs()).isTrue(); // the spec's, though the program's status says otherwise
        assertThat(c.filters()).singleElement().isEqualTo(SeccompFilters.defaultFilter(false));
        assertThat(c.rlimits()).singleElement().satisfies(l -> assertThat(l).containsExactly(7, 100, 100));
    }

    @Test
    void withoutASpecTheFiltersMustBeReadOrNothingJoins() throws Exception {
        byte[] filter = {6, 0, 0, 0, 0, 0, 0, 0};
        Confinement c = Confinement.of(program(0x3f, 0x21, 0x1, true, 2, 5000), null, own(), pid -> List.of(filter));
        assertThat(c.filters()).containsExactly(filter);
        assertThat(c.bound()).isEqualTo(0x3f);
        assertThat(c.caps()).isEqualTo(0x21);
        assertThat(c.ambient()).isEqualTo(0x1);
        assertThat(c.rlimits()).isEmpty(); // ours are lower already

        JailSetupException e = catchThrowableOfType(JailSetupException.class,
                () -> Confinement.of(program(0x3f, 0x21, 0, true, 2, 5000), null, own(), NONE));
        assertThat(e.getMessage()).startsWith("process 4242 runs under a seccomp filter corral cannot read")
                .contains("nothing joins it");
        JailSetupException strict = catchThrowableOfType(JailSetupException.class,
                () -> Confinement.of(program(0x3f, 0x21, 0, true, 1, 5000), null, own(), NONE));
        assertThat(strict.getMessage()).isEqualTo("process 4242 is in strict seccomp mode; nothing can join it");
        JailSetupException unknownFilter = catchThrowableOfType(JailSetupException.class,
                () -> Confinement.of(program(0x3f, 0x21, 0, true, 2, 5000),
                        new Hardening(Set.of(), true, Seccomp.UNCONFINED, false, List.of(), true, null), own(), NONE));
        assertThat(unknownFilter.getMessage()).contains("has a seccomp filter its jail did not set");
    }
}
