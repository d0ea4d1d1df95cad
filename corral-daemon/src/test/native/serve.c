/*
 * A socket-activated server for the reload test: answers every connection on fd 3
 * with its first argument and a newline. On SIGTERM it finishes the connection in
 * hand and exits 0, as a well-behaved server does; connections still queued on the
 * socket are left for the next jail.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term; /* no SA_RESTART: accept() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	const char *answer = argc > 1 ? argv[1] : "hello";
	while (!stopping) {
		int c = accept(3, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("serve: accept");
			return 1;
		}
		dprintf(c, "%s\n", answer);
		close(c);
	}
	return 0;
}
