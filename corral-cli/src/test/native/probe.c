/*
 * escape-probe: tries one way out of a jail and prints what the kernel said, as the errno's
 * name ("EPERM") or "ok". Used by EscapeCliIT; each test asserts the exact answer.
 *
 *   probe read PATH | write PATH | mknod-block PATH | umount PATH | remount-rw PATH
 *   probe kill PID | ptrace PID | init-module | open-by-handle | keyctl
 *   probe abstract NAME | abstract-listen NAME | setns-fds | tiocsti | uid-map | userns | cgroupns | fds
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static const char *name(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETXTBSY: return "ETXTBSY";
	case EBADF: return "EBADF";
	case ENOTTY: return "ENOTTY";
	case EIO: return "EIO";
	default: {
		static char buf[32];
		snprintf(buf, sizeof buf, "errno%d", e);
		return buf;
	}
	}
}

static int answer(long r)
{
	puts(name(r < 0 ? errno : 0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *what = argv[1], *arg = argc > 2 ? argv[2] : "";
	if (!strcmp(what, "read")) {
		int fd = open(arg, O_RDONLY);
		if (fd < 0)
			return answer(-1);
		char buf[64];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			return answer(-1);
		puts(n == 0 ? "empty" : "ok");
		return 0;
	}
	if (!strcmp(what, "write")) {
		int fd = open(arg, O_WRONLY);
		if (fd < 0)
			return answer(-1);
		return answer(write(fd, "1\n", 2));
	}
	if (!strcmp(what, "mknod-block"))
		return answer(mknod(arg, S_IFBLK | 0600, makedev(8, 0)));
	if (!strcmp(what, "umount"))
		return answer(umount2(arg, MNT_DETACH));
	if (!strcmp(what, "remount-rw"))
		return answer(mount(NULL, arg, NULL, MS_REMOUNT | MS_BIND, NULL));
	if (!strcmp(what, "kill"))
		return answer(kill(atoi(arg), SIGKILL));
	if (!strcmp(what, "ptrace"))
		return answer(ptrace(PTRACE_ATTACH, atoi(arg), 0, 0));
	if (!strcmp(what, "init-module"))
		return answer(syscall(SYS_init_module, "", 0, ""));
	if (!strcmp(what, "open-by-handle")) {
		struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };
		return answer(syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY));
	}
	if (!strcmp(what, "keyctl"))
		return answer(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
	if (!strcmp(what, "abstract")) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		size_t n = strlen(arg);
		memcpy(a.sun_path + 1, arg, n);
		return answer(connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
	}
	if (!strcmp(what, "abstract-listen")) {
		/* Host side, for the test: listens until killed. */
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		size_t n = strlen(arg);
		memcpy(a.sun_path + 1, arg, n);
		if (bind(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
		    listen(s, 16) < 0)
			return answer(-1);
		puts("listening");
		fflush(stdout);
		for (;;) {
			int c = accept(s, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	if (!strcmp(what, "setns-fds")) {
		/* Every open fd: none may be a namespace to go back through. */
		int found = 0;
		for (int fd = 0; fd < 1024; fd++) {
			if (fcntl(fd, F_GETFD) < 0)
				continue;
			if (setns(fd, 0) == 0) {
				printf("fd %d is a namespace\n", fd);
				found = 1;
			}
		}
		puts(found ? "escaped" : "none");
		return 0;
	}
	if (!strcmp(what, "tiocsti")) {
		char c = 'x';
		return answer(ioctl(0, TIOCSTI, &c));
	}
	if (!strcmp(what, "uid-map")) {
		int fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0)
			return answer(-1);
		return answer(write(fd, "0 0 4294967295\n", 15));
	}
	if (!strcmp(what, "userns"))
		return answer(unshare(CLONE_NEWUSER));
	if (!strcmp(what, "cgroupns"))
		return answer(unshare(CLONE_NEWCGROUP));
	if (!strcmp(what, "fds")) {
		/* Open fds beyond stdio, with what they point at. */
		DIR *d = opendir("/proc/self/fd");
		if (!d)
			return answer(-1);
		int self = dirfd(d), any = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			int fd = atoi(e->d_name);
			if (e->d_name[0] == '.' || fd <= 2 || fd == self)
				continue;
			char link[256], path[64];
			snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
			ssize_t n = readlink(path, link, sizeof link - 1);
			link[n > 0 ? n : 0] = '\0';
			printf("%d -> %s\n", fd, link);
			any = 1;
		}
		if (!any)
			puts("none");
		return 0;
	}
	fprintf(stderr, "probe: unknown test %s\n", what);
	return 2;
}
