/*
 * Namespaces the jail joins (OCI's namespaces[].path).
 *
 * Java opens each path, checks with the kernel that it is a namespace of the
 * planned type, and spawns the monitor with it at JOIN_FD_BASE + slot. The
 * monitor checks that every slot the plan names is there, closes the rest of the
 * range, and drops its own copies once the jail is cloned: the monitor itself
 * never enters a jail's namespace. In the jail, OP_SETNS joins one and closes it.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The slot of an OP_SETNS step, or -1. */
static int slot_of(const struct step *s)
{
	uint64_t n;
	if (parse_u64(s->argv[0], &n) < 0 || n >= JOIN_FD_MAX)
		return -1;
	return (int)n;
}

/* The type of an OP_SETNS step: exactly one CLONE_NEW* flag (0 would let setns take any), or 0. */
static int type_of(const struct step *s)
{
	char *end;
	errno = 0;
	unsigned long long t = strtoull(s->argv[1], &end, 16);
	if (errno || *end != '\0' || end == s->argv[1])
		return 0;
	switch (t) {
	case CLONE_NEWUSER: case CLONE_NEWNS: case CLONE_NEWPID: case CLONE_NEWNET:
	case CLONE_NEWUTS: case CLONE_NEWIPC: case CLONE_NEWCGROUP: case CLONE_NEWTIME:
		return (int)t;
	}
	return 0;
}

/*
 * Monitor, before clone: how many namespaces the plan joins (0 for none), each slot
 * used once and open, or -errno. Closes whatever else sits in the range.
 */
int joined_fds_check(const struct plan *plan, const char **why)
{
	unsigned used = 0;
	int n = 0;
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct step *s = &plan->steps[i];
		if (s->op != OP_SETNS)
			continue;
		int slot = slot_of(s);
		if (slot < 0 || !type_of(s))
			return *why = "plan: bad namespace to join", -EINVAL;
		if (used & 1u << slot)
			return *why = "plan: a namespace descriptor is joined twice", -EINVAL;
		if (fcntl(JOIN_FD_BASE + slot, F_GETFD) < 0)
			return *why = "a namespace to join is missing", -EBADF;
		used |= 1u << slot;
		n++;
	}
	for (int slot = 0; slot < JOIN_FD_MAX; slot++)
		if (!(used & 1u << slot))
			close(JOIN_FD_BASE + slot);
	return n;
}

/* Monitor, after clone: the jail has its own copies. */
void joined_fds_close(void)
{
	syscall(SYS_close_range, JOIN_FD_BASE, JOIN_FD_BASE + JOIN_FD_MAX - 1, 0);
}

void setns_step(const struct step *s, int idx)
{
	int slot = slot_of(s), type = type_of(s);
	if (slot < 0 || !type)
		fail_step(idx, EINVAL, "bad namespace to join %s %s", s->argv[0], s->argv[1]);
	/*
	 * Root of a joined user namespace may ptrace a dumpable process that has joined it,
	 * and this one still holds the host's mounts and descriptors. Not dumpable, it needs
	 * CAP_SYS_PTRACE over the user namespace its memory came from: the host's. exec of
	 * the program makes it dumpable again.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail_step(idx, errno, "prctl(PR_SET_DUMPABLE)");
	int fd = JOIN_FD_BASE + slot;
	/* With the type given, the kernel checks it again: the descriptor cannot be another kind. */
	if (setns(fd, type) < 0)
		fail_step(idx, errno, "setns");
	close(fd);
}

/*
 * Monitor, before clone: 1 if the plan enters a running jail's root (ROOT_FD and CWD_FD must
 * be open), 0 if not (both closed), -1 if either is missing.
 */
int root_fds_check(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nsteps; i++) {
		if (plan->steps[i].op == OP_ENTER_ROOT)
			return fcntl(ROOT_FD, F_GETFD) < 0 || fcntl(CWD_FD, F_GETFD) < 0 ? -1 : 1;
	}
	root_fds_close();
	return 0;
}

void root_fds_close(void)
{
	close(ROOT_FD);
	close(CWD_FD);
}

/*
 * After joining a running jail's mount namespace: its root and cwd, opened by Java from
 * /proc/PID/root and /proc/PID/cwd before anything was joined. The descriptors name the
 * directories themselves, so nothing the jail planted (a symlink, a "..") is resolved here.
 */
void enter_root_step(int idx)
{
	struct stat st;
	if (fstat(ROOT_FD, &st) < 0)
		fail_step(idx, errno, "the jail's root");
	if (!S_ISDIR(st.st_mode))
		fail_step(idx, ENOTDIR, "the jail's root");
	if (fchdir(ROOT_FD) < 0)
		fail_step(idx, errno, "fchdir to the jail's root");
	if (chroot(".") < 0)
		fail_step(idx, errno, "chroot");
	if (fchdir(CWD_FD) < 0)
		fail_step(idx, errno, "fchdir to the jail's working directory");
	root_fds_close();
}

/* Writing 0 to cgroup.procs moves the writer (v1 and v2 alike). */
void join_cgroup_step(const struct step *s, int idx)
{
	char path[4096];
	if (s->argv[0][0] != '/' || snprintf(path, sizeof path, "%s/cgroup.procs", s->argv[0]) >= (int)sizeof path)
		fail_step(idx, EINVAL, "bad cgroup %s", s->argv[0]);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fail_step(idx, errno, "open %s", path);
	if (write_all(fd, "0", 1) != 1)
		fail_step(idx, errno, "write %s", path);
	close(fd);
}
