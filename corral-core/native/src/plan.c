/* Reads and checks the plan: a bounded, versioned list of steps. */
#include "exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Expected argument counts; -1 means "at least the listed minimum" (see min_args). */
static const int fixed_args[OP_MAX + 1] = {
	[OP_WAIT_GO] = 0, [OP_MAKE_PRIVATE] = 1, [OP_OPEN_TREE] = 4, [OP_ATTACH_ROOT] = 2,
	[OP_MOUNT_FS] = 5, [OP_ATTACH] = 3, [OP_MKDIR] = 2, [OP_SYMLINK] = 2,
	[OP_PIVOT_ROOT] = 0, [OP_SETHOSTNAME] = 1, [OP_LO_UP] = 0, [OP_FORK_INIT] = 0,
	[OP_TAKE_TERMINAL] = 0, [OP_CHDIR] = 1, [OP_SETGROUPS] = -1, [OP_SETGID] = 1,
	[OP_SETUID] = 1, [OP_EXEC] = -1, [OP_NEW_FS] = 5, [OP_SET_ATTRS] = 2,
	[OP_SETSID] = 0, [OP_RLIMIT] = 3, [OP_CAP_BOUND] = 1, [OP_KEEP_CAPS] = 0, [OP_CAPS] = 2,
	[OP_NO_NEW_PRIVS] = 0, [OP_SECCOMP] = 1, [OP_MASK] = 1, [OP_READONLY] = 1,
	[OP_UNSHARE] = 1, [OP_CGROUP] = 4, [OP_PASS_FDS] = 1, [OP_SETNS] = 2, [OP_FORK_INTO] = 0,
	[OP_ENTER_ROOT] = 0, [OP_JOIN_CGROUP] = 1, [OP_ID_MAPS] = -1,
	[OP_OVERLAY] = 6, [OP_LAYER_DIR] = 4, [OP_REMOVE_TREE] = 1, [OP_EXIT] = 0, [OP_OPEN_DIR] = 2,
	[OP_IDMAP_TREE] = 5, [OP_IDMAP] = 4, [OP_LOCK_MOUNTS] = 4,
};
static const int min_args[OP_MAX + 1] = { [OP_SETGROUPS] = 0, [OP_EXEC] = 3, [OP_ID_MAPS] = 0 };

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Wire format (little endian):
 *   "CRLP" u32 version u32 body_length
 *   body: u64 clone_flags, u32 nsteps, then per step: u16 op, u16 argc, argc x (u32 len, bytes)
 */
int plan_read(int fd, struct plan *out, const char **why)
{
	return plan_read_keep(fd, out, why, NULL, NULL);
}

int plan_read_keep(int fd, struct plan *out, const char **why, unsigned char **raw, size_t *raw_len)
{
	unsigned char head[12];
	if (read_full(fd, head, sizeof head) < 0)
		return *why = "plan: short read of header", -1;
	if (memcmp(head, PLAN_MAGIC, 4) != 0)
		return *why = "plan: bad magic", -1;
	if (le32(head + 4) != PLAN_VERSION)
		return *why = "plan: unsupported version", -1;
	uint32_t len = le32(head + 8);
	if (len < 12 || len > PLAN_MAX_BYTES)
		return *why = "plan: body length out of range", -1;
	unsigned char *msg = malloc(sizeof head + len);
	if (!msg)
		return *why = "plan: out of memory", -1;
	memcpy(msg, head, sizeof head);
	unsigned char *body = msg + sizeof head;
	if (read_full(fd, body, len) < 0)
		return *why = "plan: short read of body", -1;

	const unsigned char *p = body, *end = body + len;
	out->clone_flags = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
	uint32_t nsteps = le32(p + 8);
	p += 12;
	if (nsteps == 0 || nsteps > PLAN_MAX_STEPS)
		return *why = "plan: step count out of range", -1;
	out->nsteps = nsteps;
	out->steps = calloc(nsteps, sizeof *out->steps);
	if (!out->steps)
		return *why = "plan: out of memory", -1;
	for (uint32_t i = 0; i < nsteps; i++) {
		if (end - p < 4)
			return *why = "plan: truncated step", -1;
		struct step *s = &out->steps[i];
		s->op = (uint16_t)(p[0] | p[1] << 8);
		s->argc = (uint16_t)(p[2] | p[3] << 8);
		p += 4;
		if (s->op < 1 || s->op > OP_MAX)
			return *why = "plan: unknown operation", -1;
		int want = fixed_args[s->op];
		if ((want >= 0 && s->argc != want) || (want < 0 && s->argc < min_args[s->op]))
			return *why = "plan: wrong argument count", -1;
		s->argv = calloc((size_t)s->argc + 1, sizeof(char *));
		if (!s->argv)
			return *why = "plan: out of memory", -1;
		for (uint16_t a = 0; a < s->argc; a++) {
			if (end - p < 4)
				return *why = "plan: truncated argument", -1;
			uint32_t alen = le32(p);
			p += 4;
			if (alen > (uint32_t)(end - p))
				return *why = "plan: argument overruns body", -1;
			if (memchr(p, '\0', alen))
				return *why = "plan: argument holds a NUL byte", -1;
			s->argv[a] = strndup((const char *)p, alen);
			if (!s->argv[a])
				return *why = "plan: out of memory", -1;
			p += alen;
		}
	}
	if (p != end)
		return *why = "plan: trailing bytes", -1;
	if (raw) {
		*raw = msg;
		*raw_len = sizeof head + len;
	} else {
		free(msg);
	}
	return 0;
}
