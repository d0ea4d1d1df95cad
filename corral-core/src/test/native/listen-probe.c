/*
 * A socket-activated server for the tests: checks LISTEN_PID is its own pid, then
 * accepts one connection on each of the LISTEN_FDS sockets from fd 3 up, in order,
 * and answers "NAME fd N pid P" with the socket's name from LISTEN_FDNAMES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	const char *names = getenv("LISTEN_FDNAMES");
	if (!fds || !pid || !names) {
		fprintf(stderr, "listen-probe: LISTEN_FDS, LISTEN_PID or LISTEN_FDNAMES unset\n");
		return 2;
	}
	if (atoi(pid) != getpid()) {
		fprintf(stderr, "listen-probe: LISTEN_PID=%s but my pid is %d\n", pid, getpid());
		return 3;
	}
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", names);
	char *save = NULL, *name = strtok_r(buf, ":", &save);
	int n = atoi(fds);
	for (int i = 0; i < n; i++, name = strtok_r(NULL, ":", &save)) {
		int c = accept(3 + i, NULL, NULL);
		if (c < 0) {
			perror("listen-probe: accept");
			return 4;
		}
		dprintf(c, "%s fd %d pid %d\n", name ? name : "?", 3 + i, getpid());
		close(c);
	}
	return 0;
}
