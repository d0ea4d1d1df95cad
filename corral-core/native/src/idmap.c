/*
 * The monitor's half of idmapped mounts. mount_setattr(MOUNT_ATTR_IDMAP) wants CAP_SYS_ADMIN
 * over the user namespace that owns the filesystem (the host's, for ext4 and the like) and over
 * the one whose mapping the mount takes, and a mount that is not attached yet. The jail's first
 * process has made the detached clones (OP_IDMAP_TREE) but holds no capability on the host; the
 * monitor, outside the jail with the caller's privileges, takes each clone from it with
 * pidfd_getfd() once Java has written the id maps, and gives it the mapping of the jail's own
 * user namespace (/proc/CHILD/ns/user) before "go". The clone is the same mount in both
 * processes, so the jail attaches it idmapped.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#define AT_RECURSIVE_ 0x8000
#define MOUNT_ATTR_IDMAP_ 0x00100000

struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; };

int idmap_count(const struct plan *plan, const char **why)
{
	int n = 0;
	for (size_t i = 0; i < plan->nsteps; i++) {
		if (plan->steps[i].op != OP_IDMAP)
			continue;
		uint64_t k;
		if (parse_u64(plan->steps[i].argv[0], &k) < 0 || k >= IDMAP_FD_MAX)
			return *why = "plan: bad idmap index", -1;
		n++;
	}
	return n;
}

/* Returns 0, or an errno with *failed_idx set to the step that failed (its detail on EVENT_FD is the caller's). */
int idmap_apply(const struct plan *plan, pid_t child, int *failed_idx)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
	int userns = -1, pidfd = -1, err = 0;
	for (size_t i = 0; i < plan->nsteps && !err; i++) {
		const struct step *s = &plan->steps[i];
		if (s->op != OP_IDMAP)
			continue;
		*failed_idx = (int)i;
		uint64_t k;
		parse_u64(s->argv[0], &k); /* checked by idmap_count */
		if (userns < 0 && (userns = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			err = errno;
			event("ERR %d %d open the jail's user namespace %s", (int)i, err, path);
			break;
		}
		if (pidfd < 0 && (pidfd = (int)syscall(SYS_pidfd_open, child, 0)) < 0) {
			err = errno;
			event("ERR %d %d pidfd_open of the jail", (int)i, err);
			break;
		}
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, IDMAP_FD_BASE + (int)k, 0);
		if (fd < 0) {
			err = errno;
			event("ERR %d %d take the clone of %s from the jail", (int)i, err, s->argv[2]);
			break;
		}
		struct mount_attr_ a = { .attr_set = MOUNT_ATTR_IDMAP_, .userns_fd = (uint64_t)userns };
		int recursive = strcmp(s->argv[1], "1") == 0;
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE_ : 0), &a, sizeof a) < 0) {
			err = errno;
			event("ERR %d %d %s", (int)i, err, s->argv[2]);
		}
		close(fd);
	}
	if (userns >= 0)
		close(userns);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}
