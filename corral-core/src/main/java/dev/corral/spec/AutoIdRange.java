package dev.corral.spec;

import dev.corral.ids.RangeAllocator;

/**
 * The jail's ids 0..65535 are to be a 65,536-wide range of host ids that no other jail has,
 * allocated when it starts (NGINX-Unit-style JSON: {@code "uidmap": "auto"}; the CLI:
 * {@code --userns auto}). The planner sees the allocated range as ordinary uid and gid maps.
 *
 * @param allocator where the range comes from, or null for {@link RangeAllocator#forCaller()}
 *                  (the default allocation file and the caller's /etc/subuid and /etc/subgid)
 * @param name      keep the range under this name, the same at every start until released (the
 *                  supervisor names it after the application); null for a range held only while
 *                  the jail runs
 */
public record AutoIdRange(RangeAllocator allocator, String name) {
    public RangeAllocator allocatorOrDefault() {
        return allocator != null ? allocator : RangeAllocator.forCaller();
    }
}
