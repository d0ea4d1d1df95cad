/*
 * corral-exec: carries out a LaunchPlan written by corral's Java side.
 *
 * It decides nothing. The plan lists every step in order; this program checks
 * the plan's shape, performs the steps, and reports the first failure as
 * "ERR <step> <errno> <detail>" so that Java can name the step in words.
 *
 * File descriptors on entry:  0,1,2 the application's stdio
 *                             3     plan, then control bytes, from Java (a pipe; for a
 *                                   spare, a socket that brings the rest below with
 *                                   the plan: see handover.c)
 *                             4     events to Java (pipe)
 *                             PASS_FD_BASE.. descriptors for the program (OP_PASS_FDS)
 *                             JOIN_FD_BASE.. namespaces to join (OP_SETNS)
 *                             ROOT_FD, CWD_FD a running jail's root and cwd (OP_ENTER_ROOT)
 */
#ifndef CORRAL_EXEC_H
#define CORRAL_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLAN_FD 3
#define EVENT_FD 4

#define PLAN_MAGIC "CRLP"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (4u << 20)
#define PLAN_MAX_STEPS 4096
#define PLAN_MAX_ARGS 65536
#define MAX_SLOTS 256
/*
 * Descriptors handed to the program (systemd socket activation) arrive at
 * PASS_FD_BASE + i and leave as FIRST_PASSED_FD + i; the two ranges never meet.
 */
#define PASS_FD_BASE 100
#define PASS_FD_MAX 64
#define FIRST_PASSED_FD 3
/* Namespaces to join arrive at JOIN_FD_BASE + slot, right above the passed descriptors. */
#define JOIN_FD_BASE (PASS_FD_BASE + PASS_FD_MAX)
#define JOIN_FD_MAX 9 /* a slot per type, and one for the outer user namespace of a jail with locked mounts */
/* A running jail's root and working directory, for a process that joins it (corral exec). */
#define ROOT_FD (JOIN_FD_BASE + JOIN_FD_MAX)
#define CWD_FD (ROOT_FD + 1)
/* The most descriptors a plan hands the executor: passed, joined, root and cwd (handover.c). */
#define HANDOVER_MAX (PASS_FD_MAX + JOIN_FD_MAX + 2)
/*
 * Idmapped mounts: the k-th detached clone made for idmapping (OP_IDMAP_TREE) waits at
 * IDMAP_FD_BASE + k in the jail's first process, where the monitor fetches it (OP_IDMAP).
 */
#define IDMAP_FD_BASE (CWD_FD + 1)
#define IDMAP_FD_MAX 16

/* Step operations. Java's dev.corral.plan.Op holds the same numbers. */
enum op {
	OP_WAIT_GO = 1,       /* ()                                    */
	OP_MAKE_PRIVATE = 2,  /* (propagation: private|slave)          */
	OP_OPEN_TREE = 3,     /* (slot, host path, recursive, readonly) */
	OP_ATTACH_ROOT = 4,   /* (slot, stage dir)                     */
	OP_MOUNT_FS = 5,      /* (fstype, source, options, target, attrs) */
	OP_ATTACH = 6,        /* (slot, target, kind d|f)              */
	OP_MKDIR = 7,         /* (target, mode octal)                  */
	OP_SYMLINK = 8,       /* (link target, path)                   */
	OP_PIVOT_ROOT = 9,    /* ()                                    */
	OP_SETHOSTNAME = 10,  /* (name)                                */
	OP_LO_UP = 11,        /* ()                                    */
	OP_FORK_INIT = 12,    /* ()                                    */
	OP_TAKE_TERMINAL = 13,/* ()                                    */
	OP_CHDIR = 14,        /* (path)                                */
	OP_SETGROUPS = 15,    /* (gid...)                              */
	OP_SETGID = 16,       /* (gid)                                 */
	OP_SETUID = 17,       /* (uid)                                 */
	OP_EXEC = 18,         /* (file, argc, argv..., env...)         */
	OP_NEW_FS = 19,       /* (slot, fstype, source, options, attrs) */
	OP_SET_ATTRS = 20,    /* (target, attrs)                       */
	OP_SETSID = 21,       /* ()                                    */
	OP_RLIMIT = 22,       /* (resource, soft, hard; "inf" = unlimited) */
	OP_CAP_BOUND = 23,    /* (hex mask of capabilities to keep)    */
	OP_KEEP_CAPS = 24,    /* ()                                    */
	OP_CAPS = 25,         /* (hex eff=perm=inh set, hex ambient)   */
	OP_NO_NEW_PRIVS = 26, /* ()                                    */
	OP_SECCOMP = 27,      /* (hex of struct sock_filter[])         */
	OP_MASK = 28,         /* (path: /dev/null on a file, empty ro tmpfs on a dir) */
	OP_READONLY = 29,     /* (path: bind it over itself read-only) */
	OP_UNSHARE = 30,      /* (hex clone flags)                     */
	OP_CGROUP = 31,       /* monitor only: (dir, join 0|1, kill none|kill|freeze|signal, remove 0|1) */
	OP_PASS_FDS = 32,     /* (count): PASS_FD_BASE.. become 3.., LISTEN_PID at exec */
	OP_SETNS = 33,        /* (slot, hex CLONE_NEW* type): join JOIN_FD_BASE + slot */
	OP_FORK_INTO = 34,    /* (): fork into a pid namespace; the child takes our place (steps.c) */
	OP_ENTER_ROOT = 35,   /* (): chroot to ROOT_FD, then cwd to CWD_FD; both closed */
	OP_JOIN_CGROUP = 36,  /* (dir): move this process into cgroup dir (writes 0 to its cgroup.procs) */
	OP_ID_MAPS = 37,      /* monitor only: (file, content)...: written to /proc/CHILD/file once the
	                         jail is ready, after which the monitor says "go" without Java */
	OP_OVERLAY = 40,      /* (slot, lower slot, upper slot, work slot, options, attrs): overlayfs from descriptors */
	OP_LAYER_DIR = 41,    /* (host dir, mode, uid, gid): make it (if missing), owned so */
	OP_REMOVE_TREE = 42,  /* (host path): remove it and everything under it, no symlink followed */
	OP_EXIT = 43,         /* (): the work is done; exit 0 without exec */
	OP_OPEN_DIR = 44,     /* (slot, host dir): open it (O_PATH, no symlink at its end) into a slot */
	OP_IDMAP_TREE = 45,   /* (slot, k, host path, recursive, readonly): before WAIT_GO, a private
	                         detached clone into slot, kept at IDMAP_FD_BASE + k for the monitor */
	OP_IDMAP = 46,        /* monitor only: (k, recursive, path, field for messages): once the id maps
	                         are written, give clone k the mapping of the jail's user namespace */
	OP_LOCK_MOUNTS = 50,  /* (hex clone flags, the jail's /proc, uid_map, gid_map): lock.c */
	OP_MAX = 50
};

struct step {
	uint16_t op;
	uint16_t argc;
	char **argv; /* NUL-terminated copies */
};

struct plan {
	uint64_t clone_flags;
	size_t nsteps;
	struct step *steps;
};

/* plan.c */
int plan_read(int fd, struct plan *out, const char **why);
/* As plan_read, and keeps the message as read (header and body) in *raw, to pass it on. */
int plan_read_keep(int fd, struct plan *out, const char **why, unsigned char **raw, size_t *raw_len);
int parse_u64(const char *s, uint64_t *out);

/* report.c */
void report_init(int status_fd);
/* Reports the failure of step `idx` with errno `err` and exits. */
__attribute__((noreturn)) void fail_step(int idx, int err, const char *fmt, ...);
void event(const char *fmt, ...);
int report_keep_above(int lowest);
ssize_t write_all(int fd, const void *buf, size_t len);

/* steps.c */
/*
 * handoff_fd: where a fork into a pid namespace (OP_FORK_INTO) tells the monitor the pid of
 * the process that takes the child's place; -1 for a plan without one.
 */
__attribute__((noreturn)) void run_child(const struct plan *plan, int go_fd, int ready_fd, int status_fd, int exit_fd,
					 int handoff_fd);

/* harden.c */
int harden_step(const struct step *s, int idx);
void confine_init(void);

/* mounts.c */
int mounts_step(const struct step *s, int idx);
int slot_take(const char *arg, int idx);
void slot_put(const char *arg, int fd, int idx);
int fs_create_mount(int fsfd, const char *options, const char *attrs, int idx);
__attribute__((noreturn)) void fs_fail(int fsfd, int idx, int err, const char *what);

/* layers.c: overlayfs roots and the directories of their writable layers */
int layers_step(const struct step *s, int idx);

/* cgroup.c: the monitor's part of the jail's cgroup */
int cgroup_collect(const struct plan *plan);
int cgroup_birth_open(int *failed_idx);
void cgroup_born_in(void);
int cgroup_join(pid_t pid, int *failed_idx);
void cgroup_kill_all(void);
void cgroup_remove_all(void);

/* idmap.c: the monitor's part of idmapped mounts */
int idmap_count(const struct plan *plan, const char **why);
int idmap_apply(const struct plan *plan, pid_t child, int *failed_idx);

/* fds.c: descriptors passed to the program */
int passed_fds_check(const struct plan *plan, const char **why);
void passed_fds_close(int n);
void pass_fds_step(const struct step *s, int idx);
int passed_fds(void);

/* handover.c: a spare executor's descriptors, received with its plan */
int is_stream_socket(int fd);
int handover_receive(int fd, int *fds, const char **why);
int handover_place(const struct plan *plan, int *fds, int count, const char **why);

/* ns.c: namespaces joined by descriptor */
int joined_fds_check(const struct plan *plan, const char **why);
void joined_fds_close(void);
void setns_step(const struct step *s, int idx);
int root_fds_check(const struct plan *plan);
void root_fds_close(void);
void enter_root_step(int idx);
void join_cgroup_step(const struct step *s, int idx);

/* lock.c: the jail's mounts locked by a nested user namespace */
void lock_mounts_step(const struct step *s, int idx);

/* init.c: the jail's PID 1 (corral-init), for `app` */
__attribute__((noreturn)) void run_init(pid_t app, int idx, int exit_fd);

#endif
