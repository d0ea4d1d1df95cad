import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The least a cold JVM command can do, for bench/jvm-floor.sh: each mode is one thing every
 * {@code corral run} must do, alone, so their times bound the cold CLI from below.
 * <ul>
 *   <li>{@code return}: start, run main, exit;
 *   <li>{@code spawn}: start {@code /bin/true} with {@link ProcessBuilder} and wait for it;
 *   <li>{@code downcall}: one call into libc through the FFM API ({@code getpid}).
 * </ul>
 */
public final class JvmFloor {
    public static void main(String[] args) throws Throwable {
        switch (args.length == 1 ? args[0] : "") {
            case "return" -> { }
            case "spawn" -> System.exit(new ProcessBuilder("/bin/true").inheritIO().start().waitFor());
            case "downcall" -> {
                Linker linker = Linker.nativeLinker();
                MethodHandle getpid = linker.downcallHandle(linker.defaultLookup().findOrThrow("getpid"), FunctionDescriptor.of(JAVA_INT));
                int pid = (int) getpid.invokeExact();
                if (pid <= 0) throw new AssertionError("getpid said " + pid);
            }
            default -> {
                System.err.println("usage: JvmFloor return|spawn|downcall");
                System.exit(2);
            }
        }
    }
}
