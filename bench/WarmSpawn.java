import dev.corral.JailBuilder;
import dev.corral.JailedProcess;

import dev.corral.spec.Capability;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Seccomp;

import java.util.Arrays;
import java.util.EnumSet;

/**
 * corral's warm path: a JVM that is already running starts {@code true} in a jail with every
 * namespace, again and again. Prints the median and quartiles in milliseconds, one line:
 * {@code median p25 p75}. Run by bench/spawn.sh with the shaded jar on the class path.
 * Arguments: warm-up runs, measured runs, and a variant: "hardened" (the default jail, which as
 * root includes a cgroup of its own), "unhardened", "no-cgroup" (the default jail without a cgroup)
 * or "limits" (the default jail with memory, pids and cpu limits). A fourth, ROUNDS, splits the
 * measured runs into that many rounds: after each it prints "ROUND" and waits for a line on
 * stdin, while the caller times something else (bwrap) in the same stretch of the machine's load.
 * The variant "hardened-vs-unhardened" takes turns, start by start, between the two and prints
 * both medians: {@code hardened unhardened}, the ratio issue 3 sets a target for. The variant
 * "locked-vs-default" does the same for a jail given CAP_SYS_ADMIN, whose mounts are locked in a
 * nested user namespace, and the default one, both without a cgroup: {@code locked default}.
 */
public class WarmSpawn {
    public static void main(String[] args) throws Exception {
        int warmup = Integer.parseInt(args.length > 0 ? args[0] : "200");
        int runs = Integer.parseInt(args.length > 1 ? args[1] : "300");
        String variant = args.length > 2 ? args[2] : "hardened";
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        if (variant.equals("hardened-vs-unhardened")) {
            JailBuilder unhardened = new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT);
            unharden(unhardened);
            inTurns(new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT), unhardened, warmup, runs);
            return;
        }
        if (variant.equals("locked-vs-default")) {
            // Without a cgroup: on cgroup v1 its join may wait for an RCU grace period, noise here.
            inTurns(new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT).cgroup(CgroupSpec.Mode.NONE)
                            .addCapability(Capability.SYS_ADMIN),
                    new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT).cgroup(CgroupSpec.Mode.NONE),
                    warmup, runs);
            return;
        }
        JailBuilder jail = new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT);
        switch (variant) {
            case "hardened" -> { }
            case "no-cgroup" -> jail.cgroup(CgroupSpec.Mode.NONE);
            case "limits" -> jail.memoryLimit(256L << 20).pidsLimit(64).cpuLimit(0.5);
            case "unhardened" -> { }
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        }
        if (variant.equals("unhardened")) unharden(jail);
        for (int i = 0; i < warmup; i++) spawn(jail);
        double[] ms = new double[runs];
        var caller = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            spawn(jail);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (rounds > 1 && (i + 1) % (runs / rounds) == 0 && i + 1 < runs) {
                System.out.println("ROUND");
                System.out.flush();
                if (caller.readLine() == null) break;
            }
        }
        Arrays.sort(ms);
        System.out.printf("%.3f %.3f %.3f%n", ms[runs / 2], ms[runs / 4], ms[3 * runs / 4]);
    }

    /**
     * Everything issue 3 adds that can be switched off: filter, capability drop, no_new_privs,
     * new session. (The /proc masks stay: they have no switch.)
     */
    private static void unharden(JailBuilder jail) {
        // Every capability but SYS_ADMIN, which locks the mounts: more work, not less.
        jail.seccomp(Seccomp.UNCONFINED).capabilities(EnumSet.complementOf(EnumSet.of(Capability.SYS_ADMIN)))
                .noNewPrivs(false).newSession(false);
    }

    /** Two jails, start after start, so both see the same load: prints both medians. */
    private static void inTurns(JailBuilder a, JailBuilder b, int warmup, int runs) throws Exception {
        for (int i = 0; i < warmup; i++) {
            spawn(a);
            spawn(b);
        }
        double[] h = new double[runs], u = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            spawn(a);
            long t1 = System.nanoTime();
            spawn(b);
            h[i] = (t1 - t0) / 1e6;
            u[i] = (System.nanoTime() - t1) / 1e6;
        }
        Arrays.sort(h);
        Arrays.sort(u);
        System.out.printf("%.3f %.3f%n", h[runs / 2], u[runs / 2]);
    }

    private static void spawn(JailBuilder jail) throws Exception {
        JailedProcess p = jail.start();
        int status = p.waitFor();
        if (status != 0) throw new IllegalStateException("jail exited with " + status);
    }
}
