/*
 * The monitor's part of the jail's cgroup. Java creates the cgroup and writes
 * its limits; the plan lists its directories (OP_CGROUP steps, which the jail
 * side skips). The monitor moves the jail's first process in before "go",
 * and at the end kills whatever is left there and removes the directories it
 * was told to, also when Java is gone.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CGROUPS 32

struct cgroup_dir {
	const char *dir;
	/*
	 * join: the jail's own cgroup (else one to remove only); into: clone3 may create the jail in
	 * it (CLONE_INTO_CGROUP, v2); born: it did, so it is not moved in after clone.
	 */
	int join, into, born, remove, idx;
	const char *kill; /* none | kill | freeze | signal */
};

static struct cgroup_dir dirs[MAX_CGROUPS];
static int ndirs;

int cgroup_collect(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct step *s = &plan->steps[i];
		if (s->op != OP_CGROUP)
			continue;
		if (ndirs == MAX_CGROUPS || s->argv[0][0] != '/')
			return -1;
		int into = strcmp(s->argv[1], "2") == 0;
		if (into) {
			for (int k = 0; k < ndirs; k++)
				if (dirs[k].into)
					return -1; /* a process is born in one cgroup */
		}
		dirs[ndirs++] = (struct cgroup_dir){
			.dir = s->argv[0], .join = into || strcmp(s->argv[1], "1") == 0, .into = into,
			.kill = s->argv[2], .remove = strcmp(s->argv[3], "1") == 0, .idx = (int)i,
		};
	}
	return ndirs;
}

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Writes a value into a cgroup file; 0 or an errno. */
static int put(const char *dir, const char *file, const char *value)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		return ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int err = write_all(fd, value, strlen(value)) < 0 ? errno : 0;
	close(fd);
	return err;
}

/* Reads a small cgroup file; length or -1. */
static ssize_t get(const char *dir, const char *file, char *buf, size_t size)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/*
 * The cgroup the jail is to be created in ("2" in the plan), opened for clone3's CLONE_INTO_CGROUP: its
 * descriptor, -1 if there is none, or -2 with *failed_idx and errno set if it cannot be opened.
 */
int cgroup_birth_open(int *failed_idx)
{
	for (int i = 0; i < ndirs; i++) {
		if (!dirs[i].into)
			continue;
		int fd = open(dirs[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			*failed_idx = dirs[i].idx;
			return -2;
		}
		return fd;
	}
	return -1;
}

/* The jail was created in its cgroup: nothing is left to move. */
void cgroup_born_in(void)
{
	for (int i = 0; i < ndirs; i++)
		if (dirs[i].into)
			dirs[i].born = 1;
}

/* Moves the jail's first process into every cgroup it was not created in; 0 or an errno. */
int cgroup_join(pid_t pid, int *failed_idx)
{
	char value[32];
	snprintf(value, sizeof value, "%d", (int)pid);
	for (int i = 0; i < ndirs; i++) {
		if (!dirs[i].join || dirs[i].born)
			continue;
		int err = put(dirs[i].dir, "cgroup.procs", value);
		if (err) {
			*failed_idx = dirs[i].idx;
			return err;
		}
	}
	return 0;
}

/* SIGKILLs every process listed in cgroup.procs; the number listed, or -1 if unreadable. */
static int kill_listed(const char *dir)
{
	static char buf[1 << 16];
	if (get(dir, "cgroup.procs", buf, sizeof buf) < 0)
		return -1;
	int count = 0;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			count++;
		}
	}
	return count;
}

static int empty(const char *dir)
{
	char buf[64];
	ssize_t n = get(dir, "cgroup.procs", buf, sizeof buf);
	return n <= 0; /* unreadable counts as empty: nothing more can be done */
}

static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Freezes the cgroup so nothing in it can fork, kills everything, thaws it. */
static void kill_frozen(const char *dir)
{
	char state[32];
	if (put(dir, "freezer.state", "FROZEN") == 0) {
		for (int i = 0; i < 1000; i++) {
			if (get(dir, "freezer.state", state, sizeof state) > 0 && strncmp(state, "FROZEN", 6) == 0)
				break;
			nap_ms(1);
		}
	}
	kill_listed(dir);
	put(dir, "freezer.state", "THAWED");
}

void cgroup_kill_all(void)
{
	for (int i = 0; i < ndirs; i++) {
		const char *how = dirs[i].kill, *dir = dirs[i].dir;
		if (!dirs[i].join || strcmp(how, "none") == 0 || empty(dir))
			continue;
		if (strcmp(how, "kill") == 0 && put(dir, "cgroup.kill", "1") == 0)
			continue;
		for (int round = 0; round < 100 && !empty(dir); round++) {
			if (strcmp(how, "freeze") == 0)
				kill_frozen(dir);
			else
				kill_listed(dir);
			reap_orphans();
			nap_ms(1);
		}
	}
	/* Killed processes leave their cgroups as they exit: wait for that, up to 5 s. */
	for (int i = 0; i < ndirs; i++) {
		for (int t = 0; t < 5000 && dirs[i].join && !empty(dirs[i].dir); t++) {
			reap_orphans();
			nap_ms(1);
		}
	}
}

void cgroup_remove_all(void)
{
	for (int i = 0; i < ndirs; i++) {
		if (!dirs[i].remove)
			continue;
		/* A cgroup whose last process just died can be busy for a moment. */
		for (int t = 0; t < 200; t++) {
			if (rmdir(dirs[i].dir) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY)
				break;
			reap_orphans();
			nap_ms(1);
		}
	}
}
