/*
 * OP_LOCK_MOUNTS: locks the jail's mounts by moving into a nested user and mount namespace.
 *
 * Mounts made inside a user namespace belong to it, so its CAP_SYS_ADMIN could unmount them
 * or remount them writable. Mounts copied into a mount namespace owned by a *less privileged*
 * user namespace are locked by the kernel instead: they can be neither unmounted (which would
 * uncover what lies beneath) nor have their read-only, nosuid, nodev or noexec flags cleared.
 *
 * Only a process in the outer user namespace with CAP_SETUID there may write the nested one's
 * maps with more than one id, and only through /proc. So a helper is forked first; we unshare;
 * it writes our maps (as Java gave them: the outer namespace's ids, one to one) through the
 * jail's own /proc, and exits.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_map(const char *proc, pid_t pid, const char *file, const char *content, int idx)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%d/%s", proc, (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fail_step(idx, errno, "open %s", path);
	size_t len = strlen(content);
	ssize_t n = write(fd, content, len);
	if (n < 0)
		fail_step(idx, errno, "write %s", path);
	if ((size_t)n != len)
		fail_step(idx, EIO, "short write to %s", path);
	close(fd);
}

/* args: (hex clone flags, the jail's /proc, uid_map, gid_map) */
void lock_mounts_step(const struct step *s, int idx)
{
	if (s->argc != 4)
		fail_step(idx, EINVAL, "bad arguments");
	char *end;
	errno = 0;
	unsigned long long flags = strtoull(s->argv[0], &end, 16);
	if (errno || *end != '\0' || end == s->argv[0] || !(flags & CLONE_NEWUSER) || !(flags & CLONE_NEWNS))
		fail_step(idx, EINVAL, "bad flags %s", s->argv[0]);

	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		fail_step(idx, errno, "pipe");
	pid_t self = getpid();
	pid_t helper = fork();
	if (helper < 0)
		fail_step(idx, errno, "fork");
	if (helper == 0) {
		close(go[1]);
		/* Our parent dies: so do we (we would wait on the pipe's end anyway). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char c;
		ssize_t n;
		do
			n = read(go[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(125); /* the parent failed to unshare and said so itself */
		/* Reports of ours go to the parent's channel: the first failure is the one shown. */
		write_map(s->argv[1], self, "uid_map", s->argv[2], idx);
		write_map(s->argv[1], self, "gid_map", s->argv[3], idx);
		_exit(0);
	}
	close(go[0]);
	if (unshare((int)flags) < 0) {
		int err = errno;
		close(go[1]);
		waitpid(helper, NULL, 0);
		fail_step(idx, err, "unshare");
	}
	/*
	 * Undumpable since "go", our /proc files belong to the host's root, which the helper is
	 * not when the caller is a normal user: dumpable for the write alone (nothing else runs
	 * in the jail yet), undumpable again before anything else.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail_step(idx, errno, "prctl(PR_SET_DUMPABLE)");
	if (write_all(go[1], "U", 1) != 1)
		fail_step(idx, errno, "wake the helper");
	close(go[1]);
	int status;
	pid_t r;
	do
		r = waitpid(helper, &status, 0);
	while (r < 0 && errno == EINTR);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail_step(idx, errno, "prctl(PR_SET_DUMPABLE)");
	if (r < 0)
		fail_step(idx, errno, "wait for the helper");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(125); /* the helper reported why */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) /* kept by the kernel; armed again to be sure */
		fail_step(idx, errno, "prctl(PR_SET_PDEATHSIG)");
}
