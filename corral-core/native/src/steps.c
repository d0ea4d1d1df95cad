/* The jail side: runs the plan's steps in order, from clone() to execve(). */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define CLOSE_RANGE_CLOEXEC_ (1U << 2)

extern char **environ;

static uint64_t num(const char *s, int idx)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0)
		fail_step(idx, EINVAL, "bad number %s", s);
	return v;
}

/*
 * Tells the monitor that the namespaces are in place (the steps before this one join
 * and create them), so the id maps can be written, then waits for "go".
 */
static void wait_go(int go_fd, int ready_fd, int idx)
{
	if (write_all(ready_fd, "R", 1) != 1)
		_exit(125); /* the monitor is gone */
	close(ready_fd);
	char c = 0;
	ssize_t n;
	do
		n = read(go_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'G')
		_exit(125); /* the monitor gave up (or died): nothing to report to */
	close(go_fd);
}

static void lo_up(int idx)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail_step(idx, errno, "socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fail_step(idx, errno, "get flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail_step(idx, errno, "set lo up");
	close(fd);
}

/* Puts the application in its own process group in the terminal's foreground. */
static void take_terminal(int idx)
{
	if (!isatty(0))
		return;
	if (setpgid(0, 0) < 0)
		fail_step(idx, errno, "setpgid");
	/* SIGTTOU is blocked here (inherited mask), so a background caller may do this. */
	if (tcsetpgrp(0, getpgrp()) < 0)
		fail_step(idx, errno, "tcsetpgrp");
}

static void set_groups(const struct step *s, int idx)
{
	gid_t groups[256];
	if (s->argc > 256)
		fail_step(idx, E2BIG, "too many groups");
	for (int i = 0; i < s->argc; i++)
		groups[i] = (gid_t)num(s->argv[i], idx);
	if (setgroups(s->argc, groups) < 0)
		fail_step(idx, errno, "setgroups");
}

static void do_exec(const struct step *s, int idx, pid_t parent)
{
	const char *file = s->argv[0];
	uint64_t n = num(s->argv[1], idx);
	if (n < 1 || n > (uint64_t)s->argc - 2)
		fail_step(idx, EINVAL, "bad argv count");
	char **argv = &s->argv[2];
	int kept = passed_fds();
	char **envp = calloc((size_t)s->argc - 2 - n + 2, sizeof(char *));
	if (!envp)
		fail_step(idx, ENOMEM, "env");
	size_t nenv = 0;
	for (size_t i = 0; i < (size_t)s->argc - 2 - n; i++) {
		char *e = s->argv[2 + n + i];
		if (kept && strncmp(e, "LISTEN_PID=", 11) == 0)
			continue; /* only ours below may name the program */
		envp[nenv++] = e;
	}
	/* Socket activation: its own pid in its pid namespace (2 under the tiny init, 1 without). */
	static char listen_pid[32];
	if (kept) {
		snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", (int)getpid());
		envp[nenv++] = listen_pid;
	}
	argv[n] = NULL; /* the first env entry's pointer lives on in envp */

	/*
	 * Everything but stdio and the passed descriptors (and the report pipe, until exec
	 * succeeds) is closed by exec. OP_PASS_FDS made 3..3+kept-1 with dup2, which leaves
	 * exactly those without FD_CLOEXEC.
	 */
	if (syscall(SYS_close_range, FIRST_PASSED_FD + kept, ~0U, CLOSE_RANGE_CLOEXEC_) < 0)
		fail_step(idx, errno, "close_range");
	/* Set last: a change of credentials clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail_step(idx, errno, "prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(125);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = envp;
	execvp(file, argv);
	int err = errno;
	fail_step(idx, err, "exec %s", file);
}

/* A change of credentials clears the parent-death signal: set it again. */
static void rearm_death_signal(int idx)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail_step(idx, errno, "prctl(PR_SET_PDEATHSIG)");
}

/*
 * Forks; the parent stays behind as the jail's init (forwards signals, reaps, exits with the
 * child's status); the child continues the plan.
 */
static void fork_init(int idx, int status_fd, int exit_fd, pid_t *parent)
{
	pid_t app = fork();
	if (app < 0)
		fail_step(idx, errno, "fork");
	if (app > 0) {
		close(status_fd);
		run_init(app, idx, exit_fd);
	}
	*parent = getppid(); /* 0 when the parent is outside this pid namespace */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail_step(idx, errno, "prctl(PR_SET_PDEATHSIG)");
}

/*
 * A pid namespace joined (or created) after clone takes only the children: forks into it, and
 * the child takes our place as the monitor's child (CLONE_PARENT). We tell the monitor its pid
 * and end; nothing of ours stays between the monitor and the jail (as runc's exec does).
 */
static void hand_off(int idx, int handoff_fd, pid_t *parent)
{
	if (handoff_fd < 0)
		fail_step(idx, EINVAL, "no channel to hand the jail over to the monitor");
	/* The monitor (our parent, outside the pid namespace), to see whether it is still there. */
	int monitor = (int)syscall(SYS_pidfd_open, *parent, 0);
	if (monitor < 0)
		fail_step(idx, errno, "pidfd_open the monitor");
	pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_PARENT, 0UL, NULL, NULL, 0UL);
	if (child < 0)
		fail_step(idx, errno, "fork");
	if (child > 0) {
		if (write_all(handoff_fd, &child, sizeof child) != (ssize_t)sizeof child) {
			/* The monitor is gone: so must the child be. */
			kill(child, SIGKILL);
			_exit(125);
		}
		_exit(0);
	}
	close(handoff_fd);
	*parent = getppid(); /* 0: the monitor, our parent now, is outside this pid namespace */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail_step(idx, errno, "prctl(PR_SET_PDEATHSIG)");
	/*
	 * Had the monitor died before the death signal was armed, nothing would stop us: ask its
	 * pidfd (readable once it has exited). Not getppid(): as a new pid namespace's first
	 * process we would be reparented outside it, where our parent reads as 0 all the same.
	 */
	struct pollfd gone = { .fd = monitor, .events = POLLIN };
	if (poll(&gone, 1, 0) != 0)
		_exit(125);
	close(monitor);
}

void run_child(const struct plan *plan, int go_fd, int ready_fd, int status_fd, int exit_fd, int handoff_fd)
{
	report_init(status_fd);
	pid_t parent = getppid();
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct step *s = &plan->steps[i];
		int idx = (int)i;
		switch (s->op) {
		case OP_WAIT_GO:
			wait_go(go_fd, ready_fd, idx);
			/*
			 * The maps are written: from here to exec nothing may ptrace or read
			 * the setup (it still holds host mounts and fds), not even root of a
			 * jail sharing our pid namespace. exec makes the program dumpable again.
			 */
			if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
				fail_step(idx, errno, "prctl(PR_SET_DUMPABLE)");
			break;
		case OP_SETHOSTNAME:
			if (sethostname(s->argv[0], strlen(s->argv[0])) < 0)
				fail_step(idx, errno, "sethostname %s", s->argv[0]);
			break;
		case OP_LO_UP:
			lo_up(idx);
			break;
		case OP_FORK_INIT:
			fork_init(idx, status_fd, exit_fd, &parent);
			break;
		case OP_FORK_INTO:
			hand_off(idx, handoff_fd, &parent);
			handoff_fd = -1;
			break;
		case OP_SETNS:
			setns_step(s, idx);
			break;
		case OP_ENTER_ROOT:
			enter_root_step(idx);
			break;
		case OP_JOIN_CGROUP:
			join_cgroup_step(s, idx);
			break;
		case OP_TAKE_TERMINAL:
			take_terminal(idx);
			break;
		case OP_CHDIR:
			if (chdir(s->argv[0]) < 0)
				fail_step(idx, errno, "chdir %s", s->argv[0]);
			break;
		case OP_SETGROUPS:
			set_groups(s, idx);
			break;
		case OP_SETGID: {
			gid_t g = (gid_t)num(s->argv[0], idx);
			if (setresgid(g, g, g) < 0)
				fail_step(idx, errno, "setresgid %s", s->argv[0]);
			rearm_death_signal(idx);
			break;
		}
		case OP_SETUID: {
			uid_t u = (uid_t)num(s->argv[0], idx);
			if (setresuid(u, u, u) < 0)
				fail_step(idx, errno, "setresuid %s", s->argv[0]);
			rearm_death_signal(idx);
			break;
		}
		case OP_EXEC:
			do_exec(s, idx, parent);
			break;
		case OP_UNSHARE: {
			char *end;
			errno = 0;
			unsigned long long flags = strtoull(s->argv[0], &end, 16);
			if (errno || *end != '\0' || end == s->argv[0])
				fail_step(idx, EINVAL, "bad flags %s", s->argv[0]);
			if (unshare((int)flags) < 0)
				fail_step(idx, errno, "unshare");
			break;
		}
		case OP_LOCK_MOUNTS:
			lock_mounts_step(s, idx);
			break;
		case OP_CGROUP:
		case OP_IDMAP:
		case OP_ID_MAPS:
			break; /* the monitor's business */
		case OP_PASS_FDS:
			pass_fds_step(s, idx);
			break;
		default:
			if (harden_step(s, idx) < 0 && mounts_step(s, idx) < 0 && layers_step(s, idx) < 0)
				fail_step(idx, EINVAL, "unknown operation %d", s->op);
		}
	}
	fail_step((int)plan->nsteps, EINVAL, "plan ended without exec");
}
