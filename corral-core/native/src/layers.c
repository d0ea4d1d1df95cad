/*
 * Overlayfs roots and their writable layers.
 *
 * OP_OVERLAY builds an overlayfs from descriptors (fsconfig FSCONFIG_SET_FD, Linux
 * 6.13+), all taken from slots: the lower layer a detached mount (a clone of the
 * base, which may be idmapped first), the upper and work directories opened by
 * OP_OPEN_DIR on the host's paths. Those are opened before the process becomes the
 * jail's root (who may not pass through the caller's home); the overlay is made
 * after, so the jail's root is its mounter and owns what is written. No layer path
 * is parsed by overlayfs itself, so commas, colons or symlinks in them change nothing.
 *
 * OP_LAYER_DIR and OP_REMOVE_TREE run in a helper that has only a user namespace
 * (the caller's own id as 0, the jail's range beside it): a normal user cannot
 * otherwise create a directory owned by the jail's ids, nor remove what the jail
 * wrote there. OP_EXIT ends such a helper without exec.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#endif

#define FSOPEN_CLOEXEC_ 1
#define FSCONFIG_SET_STRING_ 1
#define FSCONFIG_SET_FD_ 5

static int open_layer_dir(const char *path, const char *what, int idx)
{
	if (path[0] != '/')
		fail_step(idx, EINVAL, "%s %s is not absolute", what, path);
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail_step(idx, errno, "%s %s", what, path);
	return fd;
}

static void set_fd(int fsfd, const char *key, int fd, int idx)
{
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FD_, key, NULL, fd) < 0)
		fs_fail(fsfd, idx, errno, key);
}

/* (slot, lower slot, upper slot, work slot, options, attrs) */
static void overlay(const struct step *s, int idx)
{
	int lower = slot_take(s->argv[1], idx);
	int upper = slot_take(s->argv[2], idx);
	int work = slot_take(s->argv[3], idx);
	int fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC_);
	if (fsfd < 0)
		fail_step(idx, errno, "fsopen overlay");
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING_, "source", "corral", 0) < 0)
		fs_fail(fsfd, idx, errno, "source");
	set_fd(fsfd, "lowerdir+", lower, idx);
	set_fd(fsfd, "upperdir", upper, idx);
	set_fd(fsfd, "workdir", work, idx);
	int mfd = fs_create_mount(fsfd, s->argv[4], s->argv[5], idx);
	close(lower);
	close(upper);
	close(work);
	slot_put(s->argv[0], mfd, idx);
}

static uint64_t id_arg(const char *arg, int idx)
{
	uint64_t v;
	if (parse_u64(arg, &v) < 0 || v > 0xFFFFFFFEu)
		fail_step(idx, EINVAL, "bad id %s", arg);
	return v;
}

/* (dir, mode octal, uid, gid): its parent exists; a symlink in its place is refused. */
static void layer_dir(const struct step *s, int idx)
{
	const char *path = s->argv[0];
	char *end;
	errno = 0;
	unsigned long mode = strtoul(s->argv[1], &end, 8);
	if (errno || *end || mode > 07777)
		fail_step(idx, EINVAL, "bad mode %s", s->argv[1]);
	uid_t uid = (uid_t)id_arg(s->argv[2], idx);
	gid_t gid = (gid_t)id_arg(s->argv[3], idx);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		fail_step(idx, errno, "mkdir %s", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail_step(idx, errno, "open %s", path);
	if (fchown(fd, uid, gid) < 0)
		fail_step(idx, errno, "chown %s to %u:%u", path, (unsigned)uid, (unsigned)gid);
	if (fchmod(fd, (mode_t)mode) < 0)
		fail_step(idx, errno, "chmod %s", path);
	close(fd);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DNR || type == FTW_NS)
		return errno ? errno : EACCES;
	if (remove(path) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

/* Depth first, symlinks removed rather than followed, never crossing into another mount. */
static void remove_tree(const char *path, int idx)
{
	if (path[0] != '/' || strcmp(path, "/") == 0)
		fail_step(idx, EINVAL, "refusing to remove %s", path);
	struct stat st;
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return;
	int r = nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (r < 0)
		fail_step(idx, errno, "remove %s", path);
	if (r > 0)
		fail_step(idx, r, "remove %s", path);
}

int layers_step(const struct step *s, int idx)
{
	switch (s->op) {
	case OP_OVERLAY:
		overlay(s, idx);
		return 0;
	case OP_LAYER_DIR:
		layer_dir(s, idx);
		return 0;
	case OP_REMOVE_TREE:
		remove_tree(s->argv[0], idx);
		return 0;
	case OP_EXIT:
		_exit(0);
	case OP_OPEN_DIR:
		slot_put(s->argv[0], open_layer_dir(s->argv[1], "open", idx), idx);
		return 0;
	}
	return -1;
}
