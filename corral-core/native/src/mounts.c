/*
 * Filesystem steps, on the new mount API: host trees are cloned with open_tree()
 * while the host view is intact, fresh filesystems come from fsopen()/fsmount(),
 * and everything is attached with move_mount() onto a target opened with
 * openat2(RESOLVE_BENEATH) inside the new root, so no symlink or ".." planted in
 * a rootfs can send a mount outside it.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

#define OPEN_TREE_CLONE 1
#define AT_RECURSIVE_ 0x8000
#define MOVE_MOUNT_F_EMPTY_PATH_ 0x4
#define MOVE_MOUNT_T_EMPTY_PATH_ 0x40
#define FSOPEN_CLOEXEC_ 1
#define FSMOUNT_CLOEXEC_ 1
#define FSCONFIG_SET_FLAG_ 0
#define FSCONFIG_SET_STRING_ 1
#define FSCONFIG_CMD_CREATE_ 6
#define MOUNT_ATTR_RDONLY_ 0x1
#define MOUNT_ATTR_NOSUID_ 0x2
#define MOUNT_ATTR_NODEV_ 0x4
#define MOUNT_ATTR_NOEXEC_ 0x8
#define RESOLVE_NO_MAGICLINKS_ 0x02
#define RESOLVE_BENEATH_ 0x08

struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; };
struct open_how_ { uint64_t flags, mode, resolve; };

static int slots[MAX_SLOTS];
static int slots_ready;
static int root_fd = -1; /* the new root, once attached */

static void slots_init(void)
{
	if (!slots_ready) {
		for (int i = 0; i < MAX_SLOTS; i++)
			slots[i] = -1;
		slots_ready = 1;
	}
}

static int slot_arg(const char *s, int idx)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0 || v >= MAX_SLOTS)
		fail_step(idx, EINVAL, "bad slot %s", s);
	return (int)v;
}

/* attrs is a comma-separated subset of ro,nosuid,nodev,noexec (or "-"). */
static unsigned attrs_from(const char *csv, int idx)
{
	unsigned a = 0;
	char buf[64];
	if (strcmp(csv, "-") == 0)
		return 0;
	if (strlen(csv) >= sizeof buf)
		fail_step(idx, EINVAL, "bad mount attributes %s", csv);
	strcpy(buf, csv);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "ro") == 0) a |= MOUNT_ATTR_RDONLY_;
		else if (strcmp(t, "nosuid") == 0) a |= MOUNT_ATTR_NOSUID_;
		else if (strcmp(t, "nodev") == 0) a |= MOUNT_ATTR_NODEV_;
		else if (strcmp(t, "noexec") == 0) a |= MOUNT_ATTR_NOEXEC_;
		else fail_step(idx, EINVAL, "bad mount attribute %s", t);
	}
	return a;
}

/* Root-relative paths only: absolute in the plan, no "." or ".." components. */
static const char *relative(const char *path, int idx)
{
	if (path[0] != '/')
		fail_step(idx, EINVAL, "target %s is not absolute", path);
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		if ((e - p == 1 && p[0] == '.') || (e - p == 2 && p[0] == '.' && p[1] == '.'))
			fail_step(idx, EINVAL, "target %s has a '.' or '..' component", path);
		p = e;
	}
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static int open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how_ how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				 .resolve = RESOLVE_BENEATH_ | RESOLVE_NO_MAGICLINKS_ };
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd;
}

/*
 * Opens `path` inside the new root as an O_PATH fd, creating missing components
 * (directories, and the last one as `kind`: 'd' directory or 'f' empty file).
 * A symlink that would leave the root fails with EXDEV.
 */
static int open_target(const char *path, char kind, int idx)
{
	if (root_fd < 0)
		fail_step(idx, EINVAL, "no root attached before mounting %s", path);
	const char *rel = relative(path, idx);
	int fd = open_beneath(root_fd, rel, O_PATH);
	if (fd >= 0) {
		/* A directory goes on a directory, anything else on a file: say which is wrong here
		 * (the kernel's own word for the mismatch is a bare EINVAL from move_mount). */
		struct stat st;
		if (fstat(fd, &st) == 0 && kind == 'd' && !S_ISDIR(st.st_mode))
			fail_step(idx, ENOTDIR, "%s is not a directory, and this mount needs one", path);
		if (fstat(fd, &st) == 0 && kind == 'f' && S_ISDIR(st.st_mode))
			fail_step(idx, EISDIR, "%s is a directory, and this mount needs a file", path);
		return fd;
	}
	if (errno == EXDEV)
		fail_step(idx, EXDEV, "%s leads outside the root (symlink)", path);
	if (errno != ENOENT)
		fail_step(idx, errno, "open %s", path);

	/* Walk down, creating what is missing. */
	char buf[PATH_MAX];
	if (strlen(rel) >= sizeof buf)
		fail_step(idx, ENAMETOOLONG, "%s", path);
	strcpy(buf, rel);
	int dir = dup(root_fd);
	char *p = buf;
	for (;;) {
		char *slash = strchr(p, '/');
		int last = slash == NULL;
		if (slash)
			*slash = '\0';
		if (*p == '\0') { /* repeated slash */
			if (last)
				break;
			*slash = '/';
			p = slash + 1;
			continue;
		}
		/*
		 * The path so far, from the root: a relative symlink met on the way (usr/up -> ../etc)
		 * is judged against the root, not against the directory it sits in.
		 */
		int next = open_beneath(root_fd, buf, O_PATH);
		if (next < 0 && errno == EXDEV)
			fail_step(idx, EXDEV, "%s leads outside the root (symlink)", path);
		if (next < 0 && errno == ENOENT) {
			if (last && kind == 'f') {
				int f = openat(dir, p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (f < 0)
					fail_step(idx, errno, "create mount point %s", path);
				close(f);
			} else if (mkdirat(dir, p, 0755) < 0 && errno != EEXIST) {
				fail_step(idx, errno, "mkdir %s", path);
			}
			next = open_beneath(root_fd, buf, O_PATH);
		}
		if (next < 0)
			fail_step(idx, errno, "open %s", path);
		close(dir);
		dir = next;
		if (last)
			break;
		*slash = '/';
		p = slash + 1;
	}
	return dir;
}

static void set_attrs(int fd, unsigned attrs, int recursive, int idx, const char *what)
{
	if (!attrs)
		return;
	struct mount_attr_ a = { .attr_set = attrs };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE_ : 0), &a, sizeof a) < 0)
		fail_step(idx, errno, "set mount attributes on %s", what);
}

static void attach(int from, int to, int idx, const char *what)
{
	if (syscall(SYS_move_mount, from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH_ | MOVE_MOUNT_T_EMPTY_PATH_) < 0)
		fail_step(idx, errno, "attach %s", what);
}

/* fsconfig errors carry the kernel's own words; read them back for the report. */
void fs_fail(int fsfd, int idx, int err, const char *what)
{
	char msg[512] = "";
	ssize_t n = read(fsfd, msg, sizeof msg - 1);
	if (n > 2) {
		msg[n] = '\0';
		fail_step(idx, err, "%s (kernel: %s)", what, msg + 2);
	}
	fail_step(idx, err, "%s", what);
}

/*
 * Sets `options` (comma-separated key=value or flag) on an fsopen() context, creates
 * the filesystem and returns the fd of its detached mount; closes fsfd.
 */
int fs_create_mount(int fsfd, const char *options, const char *attrs, int idx)
{
	char opts[1024];
	if (strlen(options) >= sizeof opts)
		fail_step(idx, E2BIG, "options too long");
	strcpy(opts, options);
	for (char *save = NULL, *kv = strtok_r(opts, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		long r;
		if (eq) {
			*eq = '\0';
			r = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING_, kv, eq + 1, 0);
		} else {
			r = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG_, kv, NULL, 0);
		}
		if (r < 0)
			fs_fail(fsfd, idx, errno, kv);
	}
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE_, NULL, NULL, 0) < 0)
		fs_fail(fsfd, idx, errno, "create");
	int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC_, attrs_from(attrs, idx));
	if (mfd < 0)
		fs_fail(fsfd, idx, errno, "fsmount");
	close(fsfd);
	return mfd;
}

/* A fresh, detached filesystem: the fd of its mount, ready for move_mount(). */
static int new_fs(const char *type, const char *source, const char *options, const char *attrs, int idx)
{
	int fsfd = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC_);
	if (fsfd < 0)
		fail_step(idx, errno, "fsopen %s", type);
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING_, "source", source, 0) < 0)
		fs_fail(fsfd, idx, errno, "source");
	return fs_create_mount(fsfd, options, attrs, idx);
}

/* Takes the detached mount out of slot `arg` (it is the caller's to close). */
int slot_take(const char *arg, int idx)
{
	slots_init();
	int slot = slot_arg(arg, idx);
	if (slots[slot] < 0)
		fail_step(idx, EBADF, "slot %d empty", slot);
	int fd = slots[slot];
	slots[slot] = -1;
	return fd;
}

/* Puts a detached mount into the empty slot `arg`. */
void slot_put(const char *arg, int fd, int idx)
{
	slots_init();
	int slot = slot_arg(arg, idx);
	if (slots[slot] >= 0)
		fail_step(idx, EBUSY, "slot %d in use", slot);
	slots[slot] = fd;
}

static void mount_fs(const struct step *s, int idx)
{
	const char *target = s->argv[3];
	int mfd = new_fs(s->argv[0], s->argv[1], s->argv[2], s->argv[4], idx);
	int tfd = open_target(target, 'd', idx);
	attach(mfd, tfd, idx, target);
	close(tfd);
	close(mfd);
}

/* Opens an existing path beneath the new root, or returns -1 if it is missing. */
static int open_existing(const char *path, int idx)
{
	if (root_fd < 0)
		fail_step(idx, EINVAL, "no root attached before %s", path);
	int fd = open_beneath(root_fd, relative(path, idx), O_PATH | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 && errno == EXDEV)
		fail_step(idx, EXDEV, "%s leads outside the root (symlink)", path);
	if (fd < 0)
		fail_step(idx, errno, "open %s", path);
	return fd;
}

/* Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory. */
static void mask(const char *path, int idx)
{
	int tfd = open_existing(path, idx);
	if (tfd < 0)
		return; /* nothing there to hide */
	struct stat st;
	if (fstat(tfd, &st) < 0)
		fail_step(idx, errno, "stat %s", path);
	int mfd;
	if (S_ISDIR(st.st_mode)) {
		mfd = new_fs("tmpfs", "tmpfs", "size=0,mode=0555", "ro,nosuid,nodev,noexec", idx);
	} else {
		/* The host's /dev/null, still in view: the root is not pivoted yet. */
		mfd = (int)syscall(SYS_open_tree, AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | O_CLOEXEC);
		if (mfd < 0)
			fail_step(idx, errno, "clone /dev/null to mask %s", path);
	}
	attach(mfd, tfd, idx, path);
	close(mfd);
	close(tfd);
}

/* Binds a path over itself read-only (recursively), so nothing under it can be written. */
static void make_readonly(const char *path, int idx)
{
	int tfd = open_existing(path, idx);
	if (tfd < 0)
		return;
	int clone = (int)syscall(SYS_open_tree, tfd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE_);
	if (clone < 0)
		fail_step(idx, errno, "clone %s", path);
	set_attrs(clone, MOUNT_ATTR_RDONLY_ | MOUNT_ATTR_NOSUID_ | MOUNT_ATTR_NODEV_, 1, idx, path);
	attach(clone, tfd, idx, path);
	close(clone);
	close(tfd);
}

/*
 * The first half of an idmapped mount, run before the id maps are written: a private,
 * detached clone of a host tree, made here so that it is a clone of this mount namespace's
 * (locked) copy like every other. Giving it the mapping needs CAP_SYS_ADMIN over the
 * filesystem's owner, which this process never has; the monitor does it (OP_IDMAP, idmap.c),
 * taking the clone from IDMAP_FD_BASE + k.
 */
static void idmap_tree(const struct step *s, int idx)
{
	int slot = slot_arg(s->argv[0], idx);
	uint64_t k;
	if (parse_u64(s->argv[1], &k) < 0 || k >= IDMAP_FD_MAX)
		fail_step(idx, EINVAL, "bad idmap index %s", s->argv[1]);
	int recursive = strcmp(s->argv[3], "1") == 0;
	if (slots[slot] >= 0)
		fail_step(idx, EBUSY, "slot %d in use", slot);
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, s->argv[2],
			      OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE_ : 0));
	if (fd < 0)
		fail_step(idx, errno, "%s", s->argv[2]);
	/* A clone of a slave would still receive the host's mounts: cut it loose. */
	struct mount_attr_ a = { .propagation = MS_PRIVATE };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE_ : 0), &a, sizeof a) < 0)
		fail_step(idx, errno, "make the clone of %s private", s->argv[2]);
	if (strcmp(s->argv[4], "1") == 0)
		set_attrs(fd, MOUNT_ATTR_RDONLY_, 1, idx, s->argv[2]);
	int at = IDMAP_FD_BASE + (int)k;
	if (dup3(fd, at, O_CLOEXEC) < 0)
		fail_step(idx, errno, "keep the clone of %s at fd %d", s->argv[2], at);
	close(fd);
	slots[slot] = at;
}

/* Whether name in dir is a symlink to target. */
static int same_link(int dir, const char *name, const char *target)
{
	char have[PATH_MAX];
	ssize_t n = readlinkat(dir, name, have, sizeof have - 1);
	if (n < 0)
		return 0;
	have[n] = '\0';
	return strcmp(have, target) == 0;
}

int mounts_step(const struct step *s, int idx)
{
	slots_init();
	switch (s->op) {
	case OP_MAKE_PRIVATE: {
		unsigned long prop = strcmp(s->argv[0], "slave") == 0 ? MS_SLAVE : MS_PRIVATE;
		if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
			fail_step(idx, errno, "make / %s", s->argv[0]);
		return 0;
	}
	case OP_OPEN_TREE: {
		int slot = slot_arg(s->argv[0], idx);
		int recursive = strcmp(s->argv[2], "1") == 0;
		if (slots[slot] >= 0)
			fail_step(idx, EBUSY, "slot %d in use", slot);
		int fd = (int)syscall(SYS_open_tree, AT_FDCWD, s->argv[1],
				      OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE_ : 0));
		if (fd < 0)
			fail_step(idx, errno, "%s", s->argv[1]);
		if (strcmp(s->argv[3], "1") == 0)
			set_attrs(fd, MOUNT_ATTR_RDONLY_, 1, idx, s->argv[1]);
		slots[slot] = fd;
		return 0;
	}
	case OP_ATTACH_ROOT: {
		int slot = slot_arg(s->argv[0], idx);
		if (slots[slot] < 0)
			fail_step(idx, EBADF, "slot %d empty", slot);
		int stage = open(s->argv[1], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (stage < 0)
			fail_step(idx, errno, "open stage %s", s->argv[1]);
		attach(slots[slot], stage, idx, "root");
		close(stage);
		/*
		 * The tree's own descriptor now names the root of the attached mount: every later
		 * step works beneath it. Looking the stage path up again would find whatever a
		 * rename has put there since (outside the rootfs), and make mount points in it.
		 */
		root_fd = slots[slot];
		slots[slot] = -1;
		return 0;
	}
	case OP_MOUNT_FS:
		mount_fs(s, idx);
		return 0;
	case OP_IDMAP_TREE:
		idmap_tree(s, idx);
		return 0;
	case OP_MASK:
		mask(s->argv[0], idx);
		return 0;
	case OP_READONLY:
		make_readonly(s->argv[0], idx);
		return 0;
	case OP_NEW_FS: {
		int slot = slot_arg(s->argv[0], idx);
		if (slots[slot] >= 0)
			fail_step(idx, EBUSY, "slot %d in use", slot);
		slots[slot] = new_fs(s->argv[1], s->argv[2], s->argv[3], s->argv[4], idx);
		return 0;
	}
	case OP_SET_ATTRS: {
		/* Only the mount at the target itself: mounts below keep their own flags. */
		int fd = open_target(s->argv[0], 'd', idx);
		set_attrs(fd, attrs_from(s->argv[1], idx), 0, idx, s->argv[0]);
		close(fd);
		return 0;
	}
	case OP_ATTACH: {
		int slot = slot_arg(s->argv[0], idx);
		if (slots[slot] < 0)
			fail_step(idx, EBADF, "slot %d empty", slot);
		int tfd = open_target(s->argv[1], s->argv[2][0] == 'f' ? 'f' : 'd', idx);
		attach(slots[slot], tfd, idx, s->argv[1]);
		close(tfd);
		close(slots[slot]);
		slots[slot] = -1;
		return 0;
	}
	case OP_MKDIR: {
		int fd = open_target(s->argv[0], 'd', idx);
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
			fail_step(idx, ENOTDIR, "%s", s->argv[0]);
		close(fd);
		return 0;
	}
	case OP_SYMLINK: {
		const char *path = s->argv[1];
		char parent[PATH_MAX];
		const char *slash = strrchr(path, '/');
		if (!slash || slash[1] == '\0' || (size_t)(slash - path) >= sizeof parent)
			fail_step(idx, EINVAL, "bad symlink path %s", path);
		size_t plen = (size_t)(slash - path);
		memcpy(parent, path, plen);
		parent[plen] = '\0';
		int dfd = open_target(plen ? parent : "/", 'd', idx);
		if (symlinkat(s->argv[0], dfd, slash + 1) < 0) {
			/* Already there from an earlier run on the same rootfs: fine if it is this very
			 * link; anything else at that path is not what was asked for. */
			int err = errno;
			if (err != EEXIST || !same_link(dfd, slash + 1, s->argv[0]))
				fail_step(idx, err, "symlink %s -> %s", path, s->argv[0]);
		}
		close(dfd);
		return 0;
	}
	case OP_PIVOT_ROOT:
		if (root_fd < 0)
			fail_step(idx, EINVAL, "no new root attached");
		if (fchdir(root_fd) < 0)
			fail_step(idx, errno, "chdir to new root");
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			fail_step(idx, errno, "pivot_root");
		/* The old root now sits on top of the new one: detach it. */
		if (umount2(".", MNT_DETACH) < 0)
			fail_step(idx, errno, "detach old root");
		if (chdir("/") < 0)
			fail_step(idx, errno, "chdir /");
		close(root_fd);
		root_fd = -1;
		return 0;
	}
	return -1;
}
