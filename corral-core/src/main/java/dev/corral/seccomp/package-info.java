/**
 * Seccomp filters generated in pure Java as classic BPF, for x86_64: corral's default filter and
 * OCI/Docker seccomp profiles. Entry point: {@link dev.corral.seccomp.SeccompFilters}.
 *
 * <p>Inside: {@link dev.corral.seccomp.Syscalls} (the syscall table), {@link dev.corral.seccomp.Policy}
 * with its {@link dev.corral.seccomp.Rule}s and {@link dev.corral.seccomp.ArgCheck}s (what a filter
 * decides), {@link dev.corral.seccomp.DefaultPolicy} and {@link dev.corral.seccomp.OciProfile} (where
 * policies come from), {@link dev.corral.seccomp.FilterCompiler} and {@link dev.corral.seccomp.Bpf}
 * (how they become BPF).
 */
package dev.corral.seccomp;
