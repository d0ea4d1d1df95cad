/*
 * PID 1 of the jail's pid namespace: reaps every zombie, forwards signals to the
 * application, and exits with the application's status (n, or 128+signal).
 * The same loop serves as the relay that stays outside a pid (or time) namespace
 * the jail entered after clone: such a namespace takes only the children.
 */
#include "exec.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

void run_init(pid_t app, int idx, const char *name)
{
	/* Named so that ps says what it is. */
	prctl(PR_SET_NAME, name, 0, 0, 0);
	confine_init();
	/*
	 * Init keeps no descriptors: the application's streams must end when it does,
	 * and sockets passed to it are the application's alone.
	 */
	syscall(SYS_close_range, 0, ~0U, 0);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		kill(app, SIGKILL);
		_exit(125);
	}
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof si);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof si)
			_exit(125);
		if (si.ssi_signo != SIGCHLD) {
			kill(app, (int)si.ssi_signo);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != app)
				continue;
			if (WIFEXITED(status))
				_exit(WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
		}
	}
}
