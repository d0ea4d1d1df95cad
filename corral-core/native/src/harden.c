/*
 * Hardening steps, the last ones before execve(): resource limits, the capability
 * sets, no_new_privs, a new session and the seccomp filter. Each is planned in Java;
 * this file only carries them out and reports the exact failure.
 */
#include "exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_VERSION_3 0x20080522
#define CAP_MAX 63
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define SECCOMP_SET_MODE_FILTER_ 1

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
struct sock_fprog_ { unsigned short len; void *filter; };

static uint64_t hex64(const char *s, int idx)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || *s == '\0' || *end != '\0')
		fail_step(idx, EINVAL, "bad capability mask %s", s);
	return v;
}

static rlim_t limit(const char *s, int idx)
{
	if (strcmp(s, "inf") == 0)
		return RLIM_INFINITY;
	uint64_t v;
	if (parse_u64(s, &v) < 0)
		fail_step(idx, EINVAL, "bad limit %s", s);
	return (rlim_t)v;
}

static void set_rlimit(const struct step *s, int idx)
{
	uint64_t res;
	if (parse_u64(s->argv[0], &res) < 0 || res >= RLIM_NLIMITS)
		fail_step(idx, EINVAL, "bad resource %s", s->argv[0]);
	struct rlimit rl = { .rlim_cur = limit(s->argv[1], idx), .rlim_max = limit(s->argv[2], idx) };
	if (setrlimit((int)res, &rl) < 0)
		fail_step(idx, errno, "setrlimit %s %s:%s", s->argv[0], s->argv[1], s->argv[2]);
}

/* Drops from the bounding set every capability outside `keep`, up to the kernel's last. */
static void cap_bound(const char *mask, int idx)
{
	uint64_t keep = hex64(mask, idx);
	for (int cap = 0; cap <= CAP_MAX; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			fail_step(idx, errno, "read bounding capability %d", cap);
		}
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail_step(idx, errno, "drop bounding capability %d", cap);
	}
}

/* Sets effective = permitted = inheritable = `set`, and the ambient set to `ambient`. */
static void cap_sets(const char *set_hex, const char *ambient_hex, int idx)
{
	uint64_t set = hex64(set_hex, idx), ambient = hex64(ambient_hex, idx);
	struct cap_header h = { .version = CAP_VERSION_3, .pid = 0 };
	struct cap_data d[2];
	/*
	 * First make the permitted set effective (after a change of uid with keepcaps it is
	 * not), so that CAP_SETPCAP counts when the inheritable set is raised below.
	 */
	if (syscall(SYS_capget, &h, d) < 0)
		fail_step(idx, errno, "capget");
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	if (syscall(SYS_capset, &h, d) < 0)
		fail_step(idx, errno, "capset (raise effective)");
	struct cap_data want[2] = {
		{ (uint32_t)set, (uint32_t)set, (uint32_t)set },
		{ (uint32_t)(set >> 32), (uint32_t)(set >> 32), (uint32_t)(set >> 32) },
	};
	if (syscall(SYS_capset, &h, want) < 0)
		fail_step(idx, errno, "capset %s", set_hex);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail_step(idx, errno, "clear ambient capabilities");
	for (int cap = 0; cap <= CAP_MAX; cap++) {
		if ((ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			fail_step(idx, errno, "raise ambient capability %d", cap);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/* The filter arrives as lowercase hex of a struct sock_filter[] (8 bytes each). */
static void load_seccomp(const char *hex, int idx)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 16 != 0 || n / 16 > 4096)
		fail_step(idx, EINVAL, "bad seccomp filter length %zu", n);
	unsigned char *prog = malloc(n / 2);
	if (!prog)
		fail_step(idx, ENOMEM, "seccomp filter");
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			fail_step(idx, EINVAL, "bad seccomp filter byte");
		prog[i] = (unsigned char)(hi << 4 | lo);
	}
	struct sock_fprog_ fprog = { .len = (unsigned short)(n / 16), .filter = prog };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER_, 0, &fprog) < 0)
		fail_step(idx, errno, "load the seccomp filter");
	free(prog);
}

int harden_step(const struct step *s, int idx)
{
	switch (s->op) {
	case OP_SETSID:
		if (setsid() < 0)
			fail_step(idx, errno, "setsid");
		return 0;
	case OP_RLIMIT:
		set_rlimit(s, idx);
		return 0;
	case OP_CAP_BOUND:
		cap_bound(s->argv[0], idx);
		return 0;
	case OP_KEEP_CAPS:
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			fail_step(idx, errno, "prctl(PR_SET_KEEPCAPS)");
		return 0;
	case OP_CAPS:
		cap_sets(s->argv[0], s->argv[1], idx);
		return 0;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail_step(idx, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
		return 0;
	case OP_SECCOMP:
		load_seccomp(s->argv[0], idx);
		return 0;
	}
	return -1;
}

/*
 * PID 1 of the jail keeps only what it needs to forward signals to the application
 * (CAP_KILL, when the application runs as another uid) and can never gain more.
 */
void confine_init(void)
{
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	for (int cap = 0; cap <= CAP_MAX; cap++) {
		if (cap == 5 /* CAP_KILL */)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	}
	struct cap_header h = { .version = CAP_VERSION_3, .pid = 0 };
	struct cap_data d[2] = { { 1u << 5, 1u << 5, 0 }, { 0, 0, 0 } };
	syscall(SYS_capset, &h, d);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
