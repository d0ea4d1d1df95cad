import dev.corral.JailedProcess;
import dev.corral.JoinBuilder;
import dev.corral.spec.Hardening;

import java.util.Arrays;

/**
 * corral exec's warm path: a JVM that is already running starts {@code true} inside a running
 * jail (every namespace, its cgroup, root and cwd, the program's identity, capabilities and
 * seccomp filter), again and again, through {@link JoinBuilder} with the jail's hardening known
 * (the default, as for {@code corral run}). Prints the median and quartiles in milliseconds:
 * {@code median p25 p75}. Arguments: the host pid of the jail's init (or program), warm-up runs,
 * measured runs, and a variant: "each" (every exec reads /proc, opens the jail and plans) or
 * "prepared" (once, {@link JoinBuilder#prepare()}; each exec only checks the program and starts).
 * A fifth, ROUNDS, splits the measured runs into that many rounds: after each it prints "ROUND"
 * and waits for a line on stdin, while the caller times nsenter in the same stretch of the
 * machine's load. Run by bench/exec.sh with the shaded jar on the class path.
 */
public class WarmExec {
    public static void main(String[] args) throws Exception {
        long pid = Long.parseLong(args[0]);
        int warmup = Integer.parseInt(args.length > 1 ? args[1] : "100");
        int runs = Integer.parseInt(args.length > 2 ? args[2] : "200");
        String variant = args.length > 3 ? args[3] : "each";
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        JoinBuilder join = new JoinBuilder().jail(pid).hardening(Hardening.DEFAULT).command("true")
                .stdio(dev.corral.JailBuilder.StdioMode.INHERIT);
        JoinBuilder.Prepared prepared = variant.equals("prepared") ? join.prepare() : null;
        if (prepared == null && !variant.equals("each")) throw new IllegalArgumentException("unknown variant " + variant);
        for (int i = 0; i < warmup; i++) exec(join, prepared);
        double[] ms = new double[runs];
        var caller = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            exec(join, prepared);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (rounds > 1 && (i + 1) % (runs / rounds) == 0 && i + 1 < runs) {
                System.out.println("ROUND");
                System.out.flush();
                if (caller.readLine() == null) break;
            }
        }
        if (prepared != null) prepared.close();
        Arrays.sort(ms);
        System.out.printf("%.3f %.3f %.3f%n", ms[runs / 2], ms[runs / 4], ms[3 * runs / 4]);
    }

    private static void exec(JoinBuilder join, JoinBuilder.Prepared prepared) throws Exception {
        JailedProcess p = prepared != null ? prepared.start() : join.start();
        int status = p.waitFor();
        if (status != 0) throw new IllegalStateException("exec exited with " + status);
    }
}
