package dev.corral.cli;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Seccomp;
import dev.corral.sys.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/**
 * What the launcher's AOT caches are made from: {@code ./corral} runs this once per build and kind
 * with {@code -XX:AOTCacheOutput}, and the cache then holds, loaded and linked, the classes the
 * command took as it ran. {@code run}: {@code corral run -- true}. {@code exec}: a jail, and
 * {@code corral exec} into it (trained on {@code run} alone, a cold {@code corral exec} loaded
 * its classes from the jar: 440 against 261 ms). Not in help; best effort.
 */
@Command(name = "aot-training", hidden = true)
final class AotTrainingCommand implements Callable<Integer> {
    @Parameters(paramLabel = "run|exec", description = "The kind of command to train.")
    String kind;

    @Override
    public Integer call() throws Exception {
        return switch (kind) {
            case "run" -> Main.run(new String[] {"run", "--", "true"});
            case "exec" -> exec();
            default -> {
                System.err.println("corral: aot-training: run or exec, not " + kind);
                yield ExitCodes.USAGE;
            }
        };
    }

    private static int exec() throws Exception {
        JailBuilder b = new JailBuilder().command("sleep", "60").stdio(JailBuilder.StdioMode.PIPE)
                .cgroup(CgroupSpec.Mode.NONE);
        // Only root may read a jail's seccomp filter (to give the joining process the same): a
        // normal user's exec into a filtered jail fails closed, and would train nothing.
        if (Libc.geteuid() != 0) b.seccomp(Seccomp.UNCONFINED);
        JailedProcess jail = b.start();
        try {
            return Main.run(new String[] {"exec", "--pid", String.valueOf(jail.pid()), "--", "true"});
        } finally {
            jail.destroyForcibly();
            jail.waitFor();
        }
    }
}
