/*
 * Descriptors handed to the program, for systemd's socket activation protocol.
 *
 * Java spawns the monitor with them at PASS_FD_BASE + i. The monitor checks that
 * every one the plan names is there, closes the rest of the range, and drops its
 * own copies once the jail is cloned. In the jail, OP_PASS_FDS moves them down to
 * FIRST_PASSED_FD + i; exec keeps exactly those open and adds LISTEN_PID, the one
 * value nobody but the program's own process can know.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int passed; /* how many the program keeps, once OP_PASS_FDS has run */

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* The count in an OP_PASS_FDS step, or -1. */
static int count_of(const struct step *s)
{
	uint64_t n;
	if (parse_u64(s->argv[0], &n) < 0 || n < 1 || n > PASS_FD_MAX)
		return -1;
	return (int)n;
}

/*
 * Monitor, before clone: how many descriptors the plan passes (0 for none), each
 * checked to be open, or -errno. Closes whatever else sits in the range.
 */
int passed_fds_check(const struct plan *plan, const char **why)
{
	int n = 0, steps = 0;
	for (size_t i = 0; i < plan->nsteps; i++) {
		if (plan->steps[i].op != OP_PASS_FDS)
			continue;
		if (++steps > 1)
			return *why = "plan: more than one step passes descriptors", -EINVAL;
		n = count_of(&plan->steps[i]);
		if (n < 0)
			return *why = "plan: bad count of passed descriptors", -EINVAL;
	}
	for (int i = 0; i < n; i++)
		if (!is_open(PASS_FD_BASE + i))
			return *why = "a descriptor to pass to the program is missing", -EBADF;
	if (n < PASS_FD_MAX)
		syscall(SYS_close_range, PASS_FD_BASE + n, PASS_FD_BASE + PASS_FD_MAX - 1, 0);
	return n;
}

/* Monitor, after clone: the jail has its own copies; the monitor keeps none. */
void passed_fds_close(int n)
{
	if (n > 0)
		syscall(SYS_close_range, PASS_FD_BASE, PASS_FD_BASE + n - 1, 0);
}

/* Jail: moves the passed descriptors to 3.., where the program expects them. */
void pass_fds_step(const struct step *s, int idx)
{
	int n = count_of(s);
	if (n < 0 || passed)
		fail_step(idx, EINVAL, "bad count of passed descriptors %s", s->argv[0]);
	int end = FIRST_PASSED_FD + n;
	if (report_keep_above(end) < 0)
		fail_step(idx, errno, "move the report pipe above fd %d", end - 1);
	for (int i = 0; i < n; i++) {
		int from = PASS_FD_BASE + i, to = FIRST_PASSED_FD + i;
		/* Anything still open there would be silently replaced: refuse instead. */
		if (is_open(to))
			fail_step(idx, EBUSY, "fd %d is already in use", to);
		/* dup2 leaves the copy without FD_CLOEXEC, so it survives exec. */
		if (dup2(from, to) < 0)
			fail_step(idx, errno, "dup2 passed fd %d to %d", from, to);
		close(from);
	}
	passed = n;
}

/* How many descriptors from 3 up the program keeps across exec. */
int passed_fds(void)
{
	return passed;
}
