/* Failure reports and events, written as single lines so Java can parse them. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report_fd = -1;

void report_init(int status_fd) { report_fd = status_fd; }

/* Moves the report pipe to `lowest` or above, out of the way of fixed descriptor numbers. */
int report_keep_above(int lowest)
{
	if (report_fd < 0 || report_fd >= lowest)
		return 0;
	int fd = fcntl(report_fd, F_DUPFD_CLOEXEC, lowest);
	if (fd < 0)
		return -1;
	close(report_fd);
	report_fd = fd;
	return 0;
}

ssize_t write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void vline(int fd, const char *prefix, const char *fmt, va_list ap)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s", prefix);
	int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	/* One record per line: newlines inside details would split it. */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	buf[len++] = '\n';
	write_all(fd, buf, len);
}

void fail_step(int idx, int err, const char *fmt, ...)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "ERR %d %d ", idx, err);
	va_list ap;
	va_start(ap, fmt);
	vline(report_fd >= 0 ? report_fd : 2, prefix, fmt, ap);
	va_end(ap);
	_exit(125);
}

void event(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(EVENT_FD, "", fmt, ap);
	va_end(ap);
}
