/*
 * PID 1 of the jail's pid namespace: reaps every zombie, forwards signals to the
 * application, and exits with the application's status (n, or 128+signal).
 *
 * The status is also written to the monitor's exit pipe before init exits, so the
 * caller learns it without waiting for the kernel to tear the namespaces down (as
 * bubblewrap's init reports through its event fd).
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

static __attribute__((noreturn)) void report_exit(int exit_fd, int code)
{
	/*
	 * As PID 1, end the rest of the jail first: once the status is out, nothing of it
	 * runs on (SIGKILL is final; the kernel finishes the job when init exits).
	 */
	if (getpid() == 1)
		kill(-1, SIGKILL);
	if (exit_fd >= 0) {
		ssize_t n;
		do
			n = write(exit_fd, &code, sizeof code);
		while (n < 0 && errno == EINTR);
	}
	_exit(code);
}

void run_init(pid_t app, int idx, int exit_fd)
{
	/* Named so that ps says what it is. */
	prctl(PR_SET_NAME, "corral-init", 0, 0, 0);
	confine_init();
	/*
	 * Init keeps no descriptor but its exit pipe: the application's streams must end
	 * when it does, and sockets passed to it are the application's alone.
	 */
	if (exit_fd >= 0) {
		if (exit_fd > 0)
			syscall(SYS_close_range, 0, (unsigned)exit_fd - 1, 0);
		syscall(SYS_close_range, (unsigned)exit_fd + 1, ~0U, 0);
	} else {
		syscall(SYS_close_range, 0, ~0U, 0);
	}
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
				report_exit(exit_fd, WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				report_exit(exit_fd, 128 + WTERMSIG(status));
		}
	}
}
