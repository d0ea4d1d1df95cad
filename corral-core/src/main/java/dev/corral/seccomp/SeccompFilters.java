package dev.corral.seccomp;

import dev.corral.spec.Capability;
import dev.corral.spec.SpecException;

import java.util.Locale;
import java.util.Set;

/**
 * Seccomp filters for jailed programs, generated in Java (no libseccomp), for x86_64.
 *
 * <p>Each filter comes as the raw bytes of a {@code struct sock_filter[]}: 8 bytes per
 * instruction, little-endian {@code u16 code, u8 jt, u8 jf, u32 k}, at most 4096 instructions,
 * ready for {@code seccomp(SECCOMP_SET_MODE_FILTER, 0, &(struct sock_fprog){len / 8, bytes})}.
 * See {@link DefaultPolicy} for what the default filter refuses and {@link OciProfile} for how
 * profiles are read.
 */
public final class SeccompFilters {
    private SeccompFilters() {}

    /** The default filter, compiled on first use (each variant in a holder of its own: a jail needs one). */
    private static final class Default {
        static final byte[] FILTER = FilterCompiler.compile(DefaultPolicy.build(false));
    }

    /** The default filter that lets the program create user namespaces. */
    private static final class DefaultWithUserns {
        static final byte[] FILTER = FilterCompiler.compile(DefaultPolicy.build(true));
    }

    /**
     * corral's default filter. {@code allowUserns} lets the program create user namespaces
     * (otherwise {@code unshare}/{@code clone} with CLONE_NEWUSER fail with EPERM and
     * {@code clone3} with ENOSYS).
     */
    public static byte[] defaultFilter(boolean allowUserns) {
        return (allowUserns ? DefaultWithUserns.FILTER : Default.FILTER).clone();
    }

    /**
     * Compiles an OCI runtime-spec or Docker seccomp profile (JSON text), as for a program with no
     * capabilities: {@code includes.caps} entries are left out and {@code excludes.caps} entries
     * kept. Use {@link #fromOciProfile(String, String, Set)} to match the jail's capabilities.
     *
     * @param source names the text in syntax errors (a file name)
     * @throws SpecException naming the JSON pointer of every problem
     */
    public static byte[] fromOciProfile(String json, String source) throws SpecException {
        return fromOciProfile(json, source, Set.of());
    }

    /**
     * Compiles an OCI runtime-spec or Docker seccomp profile (JSON text) for a program holding
     * {@code capabilities}, which Docker profiles' {@code includes/excludes.caps} test.
     *
     * @param source names the text in syntax errors (a file name)
     * @throws SpecException naming the JSON pointer of every problem
     */
    public static byte[] fromOciProfile(String json, String source, Set<Capability> capabilities)
            throws SpecException {
        return OciProfile.compile(json, source, Set.copyOf(capabilities),
                OciProfile.kernelVersion(System.getProperty("os.version")));
    }

    /** True when filters can be generated for this machine: x86_64. */
    public static boolean supportedHere() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return arch.equals("amd64") || arch.equals("x86_64");
    }
}
