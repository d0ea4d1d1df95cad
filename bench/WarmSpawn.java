import dev.corral.JailBuilder;
import dev.corral.JailedProcess;

import java.util.Arrays;

/**
 * corral's warm path: a JVM that is already running starts {@code true} in a jail with every
 * namespace, again and again. Prints the median and quartiles in milliseconds, one line:
 * {@code median p25 p75}. Run by bench/spawn.sh with the shaded jar on the class path.
 */
public class WarmSpawn {
    public static void main(String[] args) throws Exception {
        int warmup = Integer.parseInt(args.length > 0 ? args[0] : "200");
        int runs = Integer.parseInt(args.length > 1 ? args[1] : "300");
        JailBuilder jail = new JailBuilder().command("true").stdio(JailBuilder.StdioMode.INHERIT);
        for (int i = 0; i < warmup; i++) spawn(jail);
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            spawn(jail);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf("%.3f %.3f %.3f%n", ms[runs / 2], ms[runs / 4], ms[3 * runs / 4]);
    }

    private static void spawn(JailBuilder jail) throws Exception {
        JailedProcess p = jail.start();
        int status = p.waitFor();
        if (status != 0) throw new IllegalStateException("jail exited with " + status);
    }
}
