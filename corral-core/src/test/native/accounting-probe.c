/*
 * Uses up something the kernel counts per user, then holds it:
 *   accounting-probe procs N   fork N children that wait (RLIMIT_NPROC)
 *   accounting-probe keys N    add N keys to its process keyring (the key quota, kernel.keys.maxkeys)
 * Prints "GOT ERROR" once: how many it got and "ok" or why the next one failed (EAGAIN, EDQUOT,
 * else the libc's words). Then it holds
 * them until stdin closes (or at once without --hold).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY_SPEC_PROCESS_KEYRING -2

static const char *why(int err) {
    switch (err) {
    case 0: return "ok";
    case EAGAIN: return "EAGAIN";
    case EDQUOT: return "EDQUOT";
    default: return strerror(err);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: accounting-probe procs|keys N [--hold]\n");
        return 2;
    }
    int want = atoi(argv[2]);
    int hold = argc > 3 && strcmp(argv[3], "--hold") == 0;
    int got = 0, err = 0;
    for (; got < want; got++) {
        if (strcmp(argv[1], "procs") == 0) {
            pid_t pid = fork();
            if (pid < 0) {
                err = errno;
                break;
            }
            if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;) pause();
            }
        } else {
            char name[32];
            snprintf(name, sizeof name, "k%d", got);
            if (syscall(SYS_add_key, "user", name, "v", 1, KEY_SPEC_PROCESS_KEYRING) < 0) {
                err = errno;
                break;
            }
        }
    }
    printf("%d %s\n", got, why(err));
    fflush(stdout);
    if (hold) {
        char c;
        while (read(0, &c, 1) > 0) {
        }
    }
    return 0;
}
