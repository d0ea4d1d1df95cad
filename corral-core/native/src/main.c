/*
 * The monitor: reads the plan, clones the jail's first process, relays "go"
 * from Java once the id maps are written, forwards signals, and reports the
 * outcome. It stays outside the jail; if Java goes away, the jail is killed.
 */
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define PARENT_DEATH_SIGNAL (SIGRTMAX)

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup; /* since Linux 5.7 (CLONE_ARGS_SIZE_VER2) */
};
#define CLONE_ARGS_SIZE_VER0 64

/*
 * Kills what is left of a jail without a pid namespace of its own, as its init would: every
 * child of ours once the program has ended is one of its processes (we are their subreaper), and
 * each one's children come to us in turn as it dies, so round after round until none is left.
 */
static void kill_adopted(void)
{
	pid_t self = getpid();
	for (int round = 0; round < 10000; round++) {
		int found = 0;
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			char path[sizeof e->d_name + 8], buf[512];
			snprintf(path, sizeof path, "%s/stat", e->d_name);
			int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			/* "pid (comm) state ppid ...": comm may hold anything, so parse after its last ')'. */
			char *f = strrchr(buf, ')');
			if (!f || strlen(f) < 5)
				continue;
			long ppid = strtol(f + 4, NULL, 10); /* ") S 123 ..." */
			if (ppid == self) {
				kill((pid_t)atoi(e->d_name), SIGKILL);
				found++;
			}
		}
		if (d)
			closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

static int is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* A child cloned ahead of the plan and not (yet) the jail's: ended with us, not left to init. */
static pid_t early_unused = -1;

static void end_early_unused(void)
{
	if (early_unused > 0) {
		kill(early_unused, SIGKILL);
		waitpid(early_unused, NULL, 0);
		early_unused = -1;
	}
}

/* Failure of the monitor itself (before or around clone): step -1. */
static __attribute__((noreturn)) void monitor_fail(int err, const char *what)
{
	end_early_unused();
	event("ERR -1 %d %s", err, what);
	_exit(125);
}

/* Waits up to 10 s for Java's 'R' (or its end) on the control pipe. */
static void await_release(void)
{
	for (;;) {
		struct pollfd p = { .fd = PLAN_FD, .events = POLLIN };
		int n = poll(&p, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		char c;
		ssize_t r = read(PLAN_FD, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == 'R')
			return;
	}
}

/*
 * A plan that forks into a pid namespace (OP_FORK_INTO): the first child's end of the hand-off
 * pipe, where it says who takes its place, until that is read (-1 after, or without one); the
 * first child, to be reaped, once it has been replaced; and a signal sent to it meanwhile,
 * which must reach its successor too.
 */
static int handoff_fd = -1;
static pid_t replaced = -1;
static int resend, replaced_once;

/* Sends `sig` to the jail's first process, and to the one about to take its place. */
static void signal_jail(pid_t child, int sig)
{
	if (handoff_fd >= 0 && (resend == 0 || sig == SIGKILL))
		resend = sig;
	kill(child, sig);
}

/*
 * Reads who took the first child's place (once it has said, or ended): that process is the
 * jail's from now on, and Java learns its pid. 0 if the child ended without handing over.
 */
static int take_over(pid_t *child)
{
	pid_t next = -1;
	ssize_t n;
	do
		n = read(handoff_fd, &next, sizeof next);
	while (n < 0 && errno == EINTR);
	close(handoff_fd);
	handoff_fd = -1;
	if (n != (ssize_t)sizeof next || next <= 0)
		return 0;
	*child = next;
	replaced_once = 1;
	event("PID %d", next);
	if (resend)
		kill(next, resend);
	return 1;
}

/* Whether the plan forks into a pid namespace, whose child then takes the first one's place. */
static int forks_into(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nsteps; i++)
		if (plan->steps[i].op == OP_FORK_INTO)
			return 1;
	return 0;
}

/*
 * The OP_ID_MAPS step, if the plan has one (-1 if not: Java writes the maps itself, through
 * newuidmap/newgidmap, and says "go"). Its arguments come in pairs, file and content.
 */
static int id_maps_step(const struct plan *plan, const char **why)
{
	int found = -1;
	for (size_t i = 0; i < plan->nsteps; i++) {
		if (plan->steps[i].op != OP_ID_MAPS)
			continue;
		if (found >= 0 || plan->steps[i].argc % 2)
			return *why = "plan: bad id map step", -2;
		for (int a = 0; a < plan->steps[i].argc; a += 2) {
			const char *f = plan->steps[i].argv[a];
			if (strcmp(f, "setgroups") && strcmp(f, "gid_map") && strcmp(f, "uid_map"))
				return *why = "plan: bad id map file", -2;
		}
		found = (int)i;
	}
	return found;
}

/* Writes the maps to /proc/CHILD/, each in one write(2) as the kernel wants; 0 or an errno (reported). */
static int id_maps_write(const struct step *s, int idx, pid_t child)
{
	for (int a = 0; a < s->argc; a += 2) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/%s", (int)child, s->argv[a]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		size_t len = strlen(s->argv[a + 1]);
		if (fd < 0 || write(fd, s->argv[a + 1], len) != (ssize_t)len) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			event("ERR %d %d %s", idx, err, path);
			return err;
		}
		close(fd);
	}
	return 0;
}

/*
 * The id maps are written: idmapped mounts take them now (OP_IDMAP), then the jail goes on.
 * Closes the go pipe; says whether the jail heard it (it may be gone already).
 */
static int say_go(const struct plan *plan, pid_t child, int idmaps, int cgroups, int go_fd)
{
	int idx = -1, err = idmaps > 0 ? idmap_apply(plan, child, &idx) : 0;
	if (err) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		if (cgroups > 0)
			cgroup_remove_all();
		_exit(125);
	}
	int told = write_all(go_fd, "G", 1) == 1;
	close(go_fd);
	return told;
}

/*
 * The failure report pipe: reads what is left up to its end (every writer has exited or
 * exec'd), closes it, and tells the report, or "OK" when `say_ok` and there is none.
 */
static void report_end(int fd, char *report, size_t cap, size_t *rlen, int *failed, int say_ok)
{
	ssize_t n;
	while ((n = read(fd, report + *rlen, cap - 1 - *rlen)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			*rlen += (size_t)n, *failed = 1;
	close(fd);
	if (*rlen) {
		report[*rlen] = '\0';
		event("%s", strtok(report, "\n"));
	} else if (say_ok) {
		event("OK");
	}
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/*
 * argv[1], "PASSED,JOINED,ROOTED": how many descriptors Java put at PASS_FD_BASE.. and
 * JOIN_FD_BASE.., and whether ROOT_FD and CWD_FD are there. 0 or -1 if malformed.
 */
/*
 * argv[1]: "PASSED,JOINED,ROOTED[,FLAGS]": how many descriptors of each kind were handed over,
 * and, for a spare that was handed nothing, the clone flags (hex) of the plan it expects: it
 * clones the jail's first process with them while it waits (see clone_early).
 */
static int handed_over(const char *arg, unsigned *passed, unsigned *joined, unsigned *rooted, uint64_t *ahead)
{
	unsigned v[3] = { 0, 0, 0 };
	int k = 0;
	const char *c = arg;
	for (;; c++) {
		if (*c >= '0' && *c <= '9' && v[k] < 1000) {
			v[k] = v[k] * 10 + (unsigned)(*c - '0');
		} else if (*c == ',' && k < 2 && c > arg && c[-1] != ',') {
			k++;
		} else if ((*c == '\0' || *c == ',') && k == 2 && c > arg && c[-1] != ',') {
			break;
		} else {
			return -1;
		}
	}
	if (v[0] > PASS_FD_MAX || v[1] > JOIN_FD_MAX || v[2] > 1)
		return -1;
	*ahead = 0;
	if (*c == ',') {
		uint64_t f = 0;
		int digits = 0;
		for (c++; *c; c++, digits++) {
			int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
			if (d < 0 || digits >= 16)
				return -1;
			f = f << 4 | (uint64_t)d;
		}
		if (f == 0 || v[0] || v[1] || v[2])
			return -1;
		*ahead = f;
	}
	*passed = v[0], *joined = v[1], *rooted = v[2];
	return 0;
}

/* The pipes between the monitor and the jail's first process, by use. */
enum { P_GO, P_ST, P_READY, P_EX, P_PLAN, P_COUNT };

/*
 * The namespaces that are copies of the caller's (its mounts, its hostname) are made only once
 * the plan has come, by the child itself: a spare may wait for hours, and the jail must see the
 * host as it is when it starts. unshare() of these by a process in its new user namespace makes
 * them as clone() would have, owned by that user namespace.
 */
#define CLONE_LATE ((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS))

/*
 * Clones the jail's first process before the plan has come, with the flags of the plan a spare
 * expects: the new namespaces (the network namespace alone takes ~0.4 ms) are made while it
 * waits, not on the start's path. The child waits for the plan on a pipe of its own (P_PLAN), and
 * runs it only if it asks for the flags it was cloned for. Its pid, or -1 (then the start clones
 * as usual). p: the pipes, of which the parent keeps its ends.
 */
static pid_t clone_early(uint64_t flags, int p[P_COUNT][2])
{
	if (!(flags & CLONE_NEWUSER))
		return -1; /* only a new user namespace lets the child make the late ones itself */
	for (int i = 0; i < P_COUNT; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			while (i-- > 0) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return -1;
		}
	}
	struct clone_args_ ca = { .flags = flags & ~CLONE_LATE, .exit_signal = SIGCHLD };
	pid_t child = (pid_t)syscall(SYS_clone3, &ca, (size_t)CLONE_ARGS_SIZE_VER0);
	if (child == 0) {
		close(PLAN_FD);
		close(EVENT_FD);
		close(p[P_GO][1]);
		close(p[P_ST][0]);
		close(p[P_READY][0]);
		close(p[P_EX][0]);
		close(p[P_PLAN][1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct plan plan;
		const char *why = NULL;
		/* The monitor has checked the plan; anything short of it means the monitor is gone. */
		if (plan_read(p[P_PLAN][0], &plan, &why) < 0 || plan.clone_flags != flags)
			_exit(125);
		close(p[P_PLAN][0]);
		prctl(PR_SET_NAME, "corral-monitor", 0, 0, 0);
		if ((flags & CLONE_LATE) && unshare((int)(flags & CLONE_LATE)) < 0) {
			report_init(p[P_ST][1]);
			fail_step(-1, errno, "unshare the mount and uts namespaces");
		}
		run_child(&plan, p[P_GO][0], p[P_READY][1], p[P_ST][1], p[P_EX][1], -1);
	}
	int ends[] = { p[P_GO][0], p[P_ST][1], p[P_READY][1], p[P_EX][1], p[P_PLAN][0] };
	for (int i = 0; i < P_COUNT; i++)
		close(ends[i]);
	if (child < 0) {
		for (int i = 0; i < P_COUNT; i++)
			close(i == P_GO || i == P_PLAN ? p[i][1] : p[i][0]);
		return -1;
	}
	return child;
}

/*
 * Gives the plan to the child cloned early if it was cloned as the plan wants and nothing rules it
 * out (`unfit`): a jail to be born in a cgroup (v2: cloned into it, which an early child was not;
 * v1 cgroups are joined after the clone either way), or descriptors handed over with the plan,
 * which the child, cloned before they came, does not have. Else kills it unused. Its pid, or -1.
 */
static pid_t use_early(pid_t early, int p[P_COUNT][2], const struct plan *plan, uint64_t flags, int unfit,
		       const unsigned char *raw, size_t raw_len)
{
	int fits = plan->clone_flags == flags && !unfit
		   && write_all(p[P_PLAN][1], raw, raw_len) == (ssize_t)raw_len;
	close(p[P_PLAN][1]);
	if (fits)
		return early;
	kill(early, SIGKILL);
	waitpid(early, NULL, 0);
	close(p[P_GO][1]);
	close(p[P_ST][0]);
	close(p[P_READY][0]);
	close(p[P_EX][0]);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned passed_n, joined_n, rooted_n;
	uint64_t ahead;
	/* A plan channel that is a socket: a spare, whose descriptors come with its plan (handover.c). */
	int handed = is_stream_socket(PLAN_FD);
	if (argc != 2 || handed_over(argv[1], &passed_n, &joined_n, &rooted_n, &ahead) < 0
	    || !(is_pipe(PLAN_FD) || handed) || (handed && (passed_n || joined_n || rooted_n)) || !is_pipe(EVENT_FD)) {
		fprintf(stderr, "corral-exec: internal executor of corral; run 'corral' instead.\n");
		return 125;
	}
	/*
	 * Only stdio, our two pipes and the descriptors handed over for the jail (passed, to
	 * join, a running jail's root and cwd) may live on. Whatever else the JVM had open
	 * without close-on-exec (its FileInputStreams have none: another jail's pipes, say) is
	 * closed now, not once the plan comes: a spare executor waits for its plan a long time.
	 */
	syscall(SYS_close_range, EVENT_FD + 1, PASS_FD_BASE - 1, 0);
	syscall(SYS_close_range, PASS_FD_BASE + passed_n, JOIN_FD_BASE - 1, 0);
	syscall(SYS_close_range, JOIN_FD_BASE + joined_n, ROOT_FD - 1, 0);
	syscall(SYS_close_range, rooted_n ? CWD_FD + 1 : ROOT_FD, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Every signal waits for the signalfd below, even while the plan is awaited: a spare
	 * executor (spawned ahead of need) may wait long, and the death signal also comes when
	 * the thread that spawned it ends, which must not kill it (see the loop below).
	 */
	sigset_t mask;
	sigfillset(&mask);
	sigdelset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pid_t caller = getppid();
	/*
	 * Not SIGKILL: when Java dies the monitor still has to kill the jail and
	 * remove its cgroup. The signal is caught below (and the control pipe's
	 * end-of-file says the same).
	 */
	prctl(PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL);
	if (getppid() != caller)
		return 125; /* the caller died before the death signal was armed */
	/* Until its plan comes, an executor is only a spare (as ps shows). */
	prctl(PR_SET_NAME, "corral-spare", 0, 0, 0);
	int early_p[P_COUNT][2];
	pid_t early = ahead ? clone_early(ahead, early_p) : -1;
	early_unused = early;

	struct plan plan;
	const char *why = NULL;
	int received[HANDOVER_MAX];
	int nreceived = handed ? handover_receive(PLAN_FD, received, &why) : 0;
	if (nreceived < 0)
		monitor_fail(-nreceived, why);
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	if (plan_read_keep(PLAN_FD, &plan, &why, early > 0 ? &raw : NULL, &raw_len) < 0)
		monitor_fail(EINVAL, why); /* which ends an early child too */
	prctl(PR_SET_NAME, "corral-monitor", 0, 0, 0);
	if (handed) {
		int err = handover_place(&plan, received, nreceived, &why);
		if (err < 0)
			monitor_fail(-err, why);
	}
	int passed = passed_fds_check(&plan, &why);
	if (passed < 0)
		monitor_fail(-passed, why);
	int joined = joined_fds_check(&plan, &why);
	if (joined < 0)
		monitor_fail(-joined, why);
	int rooted = root_fds_check(&plan);
	if (rooted < 0)
		monitor_fail(EBADF, "the root to enter is missing");
	int idmaps = idmap_count(&plan, &why);
	if (idmaps < 0)
		monitor_fail(EINVAL, why);
	int cgroups = cgroup_collect(&plan);
	if (cgroups < 0)
		monitor_fail(EINVAL, "plan: bad cgroup list");
	int maps = id_maps_step(&plan, &why);
	if (maps < -1)
		monitor_fail(EINVAL, why);
	/*
	 * Orphans of a jail that shares our pid namespace come back to us: to be reaped, and, with
	 * no init whose end ends them all, to be killed when the program ends (kill_adopted).
	 */
	int own_pid_ns = (plan.clone_flags & CLONE_NEWPID) != 0;
	if ((cgroups > 0 || !own_pid_ns) && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		monitor_fail(errno, "prctl(PR_SET_CHILD_SUBREAPER)");

	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		monitor_fail(errno, "signalfd");
	/*
	 * go: "the maps are written"; st: a failure report (end-of-file: exec succeeded);
	 * ready: the namespaces exist; ex: the application's status from the jail's init.
	 */
	int go[2], st[2], ready[2], ex[2];
	/* ho: the pid of the process that takes the child's place (OP_FORK_INTO), from the child. */
	int ho[2] = { -1, -1 };
	int handing = forks_into(&plan);
	int cg_idx = -1;
	int cgfd = cgroups > 0 ? cgroup_birth_open(&cg_idx) : -1;
	if (cgfd == -2) {
		end_early_unused();
		event("ERR %d %d open the cgroup", cg_idx, errno);
		cgroup_remove_all();
		_exit(125);
	}
	pid_t child = early > 0 ? use_early(early, early_p, &plan, ahead, cgfd >= 0 || nreceived > 0 || handing, raw, raw_len)
				: -1;
	early_unused = -1; /* the jail's now, or killed and reaped */
	free(raw);
	if (child > 0) {
		/* Its ends of the pipes were closed when it was cloned. */
		go[1] = early_p[P_GO][1];
		st[0] = early_p[P_ST][0];
		ready[0] = early_p[P_READY][0];
		ex[0] = early_p[P_EX][0];
	} else {
		if (pipe2(go, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0
		    || pipe2(ex, O_CLOEXEC) < 0 || (handing && pipe2(ho, O_CLOEXEC) < 0))
			monitor_fail(errno, "set up pipes");
		struct clone_args_ ca = { .flags = plan.clone_flags, .exit_signal = SIGCHLD };
		if (cgfd >= 0) {
			/* Born in its cgroup: no migration (cgroup v2). */
			ca.flags |= CLONE_INTO_CGROUP;
			ca.cgroup = (uint64_t)cgfd;
			child = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
			if (child >= 0)
				cgroup_born_in();
			/*
			 * Refused (a kernel before 5.7, or the cgroup itself): clone as without one and
			 * move the child in below, where a cgroup that cannot take it gets its own
			 * precise error.
			 */
			ca.flags &= ~CLONE_INTO_CGROUP;
			ca.cgroup = 0;
			close(cgfd);
		}
		if (child < 0)
			child = (pid_t)syscall(SYS_clone3, &ca, (size_t)CLONE_ARGS_SIZE_VER0);
		if (child < 0)
			monitor_fail(errno, "clone");
		if (child == 0) {
			close(PLAN_FD);
			close(EVENT_FD);
			close(sfd);
			close(go[1]);
			close(st[0]);
			close(ready[0]);
			close(ex[0]);
			if (handing)
				close(ho[0]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			run_child(&plan, go[0], ready[1], st[1], ex[1], ho[1]);
		}
		close(go[0]);
		close(st[1]);
		close(ready[1]);
		close(ex[1]);
		if (handing) {
			close(ho[1]);
			handoff_fd = ho[0];
		}
	}
	passed_fds_close(passed);
	if (joined > 0)
		joined_fds_close();
	if (rooted > 0)
		root_fds_close();
	/* The application's streams belong to it alone. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (cgroups > 0) {
		int idx = -1;
		int err = cgroup_join(child, &idx);
		if (err) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			cgroup_remove_all();
			event("ERR %d %d join cgroup", idx, err);
			_exit(125);
		}
	}
	/*
	 * The child reports ready once it has joined and created its namespaces (a new
	 * user namespace may come after joins); only then can its id maps be written: by us
	 * (OP_ID_MAPS), or by Java through newuidmap/newgidmap, which then says 'G'. If it
	 * fails first, there is no PID to report: its error and exit follow below.
	 */
	char r = 0;
	ssize_t rn;
	do
		rn = read(ready[0], &r, 1);
	while (rn < 0 && errno == EINTR);
	int ready_ok = rn == 1 && r == 'R';
	close(ready[0]);
	if (ready_ok && maps >= 0 && id_maps_write(&plan.steps[maps], maps, child)) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		if (cgroups > 0)
			cgroup_remove_all();
		_exit(125);
	}
	int go_told = 0, go_sent = 0;
	if (ready_ok)
		event("PID %d", child);
	/* We wrote the maps (or there are none): no need to wait for Java. */
	if (ready_ok && maps >= 0) {
		go_sent = say_go(&plan, child, idmaps, cgroups, go[1]);
		go_told = 1;
	}

	char report[4096];
	size_t rlen = 0;
	int failed = 0, status_open = 1, plan_open = 1, java_gone = 0, exit_open = 1, exit_told = 0;
	for (;;) {
		struct pollfd p[5] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = plan_open ? PLAN_FD : -1, .events = POLLIN },
			{ .fd = status_open ? st[0] : -1, .events = POLLIN },
			{ .fd = exit_open ? ex[0] : -1, .events = POLLIN },
			{ .fd = handoff_fd, .events = POLLIN },
		};
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			kill(child, SIGKILL);
			monitor_fail(errno, "poll");
		}
		/*
		 * First: the first child wrote who takes its place before it could end, and before
		 * that one could exec (the first child holds the status pipe until it ends).
		 */
		if (p[4].revents) {
			pid_t first = child;
			if (take_over(&child))
				replaced = first;
		}
		if (p[2].revents) {
			ssize_t n = read(st[0], report + rlen, sizeof report - 1 - rlen);
			if (n > 0) {
				rlen += (size_t)n;
				failed = 1;
			} else if (n == 0 || errno != EINTR) {
				status_open = 0;
				report_end(st[0], report, sizeof report, &rlen, &failed, go_sent);
			}
		}
		if (p[3].revents) {
			/*
			 * The jail's init has reaped the application and is about to exit. Without a
			 * cgroup nothing of ours waits on the teardown, so the status is told now
			 * (EXIT); with one, the cgroup is emptied and its accounting read only once init
			 * is reaped, and the status goes ahead as STATUS (a supervisor can start the next
			 * jail meanwhile). A failure report always comes first (the application wrote it
			 * before it exited), so one that has not been read yet is read now.
			 */
			int code = -1;
			ssize_t n;
			do
				n = read(ex[0], &code, sizeof code);
			while (n < 0 && errno == EINTR);
			exit_open = 0;
			close(ex[0]);
			if (n == sizeof code && status_open) {
				status_open = 0;
				report_end(st[0], report, sizeof report, &rlen, &failed, go_sent);
			}
			if (n == sizeof code && !status_open && !failed && go_sent) {
				if (cgroups == 0) {
					event("EXIT %d", code);
					exit_told = 1;
				} else {
					event("STATUS %d", code);
				}
			}
		}
		if (p[1].revents) {
			char c = 0;
			ssize_t n = read(PLAN_FD, &c, 1);
			if (n == 1 && c == 'G' && maps < 0 && !go_told) {
				go_sent = say_go(&plan, child, idmaps, cgroups, go[1]);
				go_told = 1;
			} else if (n <= 0 || c != 'G') {
				/* Java is gone or gave up: the jail must not outlive it. */
				signal_jail(child, SIGKILL);
				plan_open = 0;
				java_gone = n <= 0;
			}
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si) {
				if ((int)si.ssi_signo == PARENT_DEATH_SIGNAL) {
					/*
					 * The death signal follows the thread that spawned us, not
					 * the process: it also comes when that thread ends and we
					 * pass to another thread of the same caller (a pool's worker
					 * retiring). Only a new parent process means the caller is
					 * gone; the signal comes again on each such change. Never
					 * forwarded: the program must not die of our bookkeeping.
					 */
					if (getppid() != caller) {
						signal_jail(child, SIGKILL);
						java_gone = 1;
					}
					continue;
				}
				if (si.ssi_signo != SIGCHLD) {
					signal_jail(child, (int)si.ssi_signo);
					continue;
				}
				if (replaced > 0 && waitpid(replaced, NULL, WNOHANG) == replaced)
					replaced = -1;
				int status;
				pid_t ended = waitpid(child, &status, WNOHANG);
				/*
				 * The first child ended, having handed the jail over (or not: then it failed).
				 * One SIGCHLD may stand for its successor's end too: that one is asked at once.
				 */
				if (ended == child && handoff_fd >= 0 && take_over(&child))
					ended = waitpid(child, &status, WNOHANG);
				if (ended == child) {
					/*
					 * Drain a report that raced with the exit. A successor may have exec'd and
					 * ended since this round's poll: its status pipe has ended too (it held it),
					 * and an end without a report is an exec, as it is when the poll sees it.
					 */
					if (status_open) {
						status_open = 0;
						report_end(st[0], report, sizeof report, &rlen, &failed, replaced_once && go_sent);
					}
					int code = status_code(status);
					if (exit_told)
						_exit(code);
					if (!own_pid_ns)
						kill_adopted();
					if (cgroups > 0)
						cgroup_kill_all();
					event("EXIT %d", code);
					if (cgroups > 0) {
						/* Java reads the final accounting, then says 'R'. */
						if (!java_gone)
							await_release();
						cgroup_remove_all();
					}
					_exit(failed ? 125 : code);
				}
			}
		}
	}
}
