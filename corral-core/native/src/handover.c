/*
 * Descriptors handed over after the spawn.
 *
 * A spare executor is spawned before its plan is known, so nothing of the plan's can be put at
 * its slots by the spawn. Its plan channel is a socket instead of a pipe, and before the plan
 * comes one byte, 'H', with the plan's descriptors attached (SCM_RIGHTS): the sockets to pass,
 * the namespaces to join (by slot), a running jail's root and cwd, in that order. Once the plan
 * is read they are put at PASS_FD_BASE.., JOIN_FD_BASE.., ROOT_FD and CWD_FD, where a spawn
 * would have put them, and everything after that is as for an executor spawned with them.
 * A count that is not exactly what the plan names fails the start.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int is_stream_socket(int fd)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof type;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)
	       && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

int handover_receive(int fd, int *fds, const char **why)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * HANDOVER_MAX)];
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof control.buf };
	ssize_t n;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return *why = "receive the handed-over descriptors", -errno;
	int count = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || count > 0)
			return *why = "handover: unexpected control message", -EINVAL;
		count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)count);
	}
	/* Descriptors the buffer could not take were closed by the kernel: never start short of them. */
	if (n != 1 || byte != 'H' || (msg.msg_flags & MSG_CTRUNC))
		return *why = n == 0 ? "plan: the plan channel ended before the plan" : "handover: malformed", -EINVAL;
	return count;
}

/* What the plan expects: how many passed, how many joined (slots 0..n-1), whether root and cwd. */
static int expected(const struct plan *plan, int *passed, int *joined, int *rooted)
{
	*passed = *joined = *rooted = 0;
	for (size_t i = 0; i < plan->nsteps; i++) {
		const struct step *s = &plan->steps[i];
		uint64_t v;
		if (s->op == OP_PASS_FDS) {
			if (s->argc < 1 || parse_u64(s->argv[0], &v) < 0 || v > PASS_FD_MAX || *passed)
				return -1;
			*passed = (int)v;
		} else if (s->op == OP_SETNS) {
			(*joined)++;
		} else if (s->op == OP_ENTER_ROOT) {
			*rooted = 1;
		}
	}
	return *joined > JOIN_FD_MAX ? -1 : 0;
}

int handover_place(const struct plan *plan, int *fds, int count, const char **why)
{
	int passed, joined, rooted;
	if (expected(plan, &passed, &joined, &rooted) < 0)
		return *why = "plan: bad descriptors to take", -EINVAL;
	if (count != passed + joined + 2 * rooted)
		return *why = "handover: not the descriptors the plan names", -EBADF;
	for (int i = 0; i < count; i++) {
		int to = i < passed ? PASS_FD_BASE + i
			 : i < passed + joined ? JOIN_FD_BASE + (i - passed)
			 : ROOT_FD + (i - passed - joined);
		/* Received below PASS_FD_BASE (everything from 5 up was closed at the start). */
		if (fds[i] >= PASS_FD_BASE || dup3(fds[i], to, 0) < 0)
			return *why = "place a handed-over descriptor", fds[i] >= PASS_FD_BASE ? -EBADF : -errno;
		close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}
