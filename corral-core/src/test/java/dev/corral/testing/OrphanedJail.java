package dev.corral.testing;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;

/**
 * Started in a separate JVM by the tests: starts a jail, prints the jail's host pid and waits to
 * be killed, so a test can check that the jail dies with its caller.
 */
public final class OrphanedJail {
    public static void main(String[] args) throws Exception {
        JailedProcess p = new JailBuilder().command("sleep", "1000").stdio(JailBuilder.StdioMode.INHERIT).start();
        System.out.println(p.jailPid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
