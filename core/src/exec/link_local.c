/* link_local.c - `--workers N`: N worker processes on this machine, each
 * a fork of the coordinator after the dataset, accelerator and plugins
 * are loaded (so a worker starts in milliseconds and shares the dataset's
 * pages copy-on-write), talking over a socketpair in length-prefixed
 * frames. A worker dies with its coordinator (PR_SET_PDEATHSIG), and never
 * touches results.db: the coordinator is its only writer. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec.h"

/* Largest frame accepted: stage 2's jobs and results carry a network's
 * weights and Adam state in base64 (16 bytes a parameter), so 1 GiB is a
 * network of some 60 M parameters. */
#define FRAME_MAX (1u << 30)

typedef struct frame_buf {
    char *data;
    size_t len, cap;
} frame_buf;

typedef struct lworker {
    pid_t pid;
    int fd;
    frame_buf in;
} lworker;

typedef struct local_link {
    const nc_exec_env *env;
    int n, threads;
    lworker *w;
} local_link;

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_frame(int fd, const char *msg)
{
    uint32_t len = (uint32_t)strlen(msg);
    return write_all(fd, &len, sizeof len) || write_all(fd, msg, len) ? -1 : 0;
}

/* A complete frame at the head of b, moved out as a string; NULL when not
 * yet complete. *bad when the length is impossible. */
static char *take_frame(frame_buf *b, int *bad)
{
    *bad = 0;
    if (b->len < 4)
        return NULL;
    uint32_t len;
    memcpy(&len, b->data, 4);
    if (len > FRAME_MAX) {
        *bad = 1;
        return NULL;
    }
    if (b->len < 4 + (size_t)len)
        return NULL;
    char *msg = malloc((size_t)len + 1);
    if (!msg)
        return NULL;
    memcpy(msg, b->data + 4, len);
    msg[len] = '\0';
    memmove(b->data, b->data + 4 + len, b->len - 4 - len);
    b->len -= 4 + (size_t)len;
    return msg;
}

/* Reads what fd has into b: 1 read something, 0 end of stream, -1 error. */
static int fill(int fd, frame_buf *b)
{
    if (b->cap - b->len < 65536) {
        size_t cap = b->cap ? b->cap * 2 : 131072;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    ssize_t n;
    do
        n = read(fd, b->data + b->len, b->cap - b->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    b->len += (size_t)n;
    return n > 0;
}

/* ---- The worker process ---------------------------------------------------- */

typedef struct child_link {
    int fd;
    frame_buf in;
} child_link;

static int child_send(void *t, const char *msg, nc_error *err)
{
    child_link *c = t;
    if (strlen(msg) > FRAME_MAX)
        return nc_error_set(err, NC_ERR_INTERNAL, "worker: a message of %zu bytes, over the "
                            "%u-byte frame limit", strlen(msg), FRAME_MAX);
    if (send_frame(c->fd, msg))
        return nc_error_set(err, NC_ERR_INTERNAL, "worker: the coordinator is gone");
    return NC_OK;
}

static int child_recv(void *t, char **msg, nc_error *err)
{
    child_link *c = t;
    *msg = NULL;
    for (;;) {
        int bad;
        if ((*msg = take_frame(&c->in, &bad)) != NULL)
            return NC_OK;
        if (bad)
            return nc_error_set(err, NC_ERR_INPUT, "worker: a frame over %u bytes", FRAME_MAX);
        int got = fill(c->fd, &c->in);
        if (got <= 0)
            return NC_OK;   /* the coordinator is gone: end quietly */
    }
}

static void child_main(const local_link *l, int k, int fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    for (int j = 0; j < l->n; j++)
        if (l->w[j].fd >= 0)
            close(l->w[j].fd);
    nc_exec_env env = *l->env;
    env.threads = l->threads;
    env.note = NULL;
    char name[NC_EXEC_NAME_MAX];
    nc_exec_worker_name(k, name, sizeof name);
    child_link c = {fd, {0}};
    nc_worker_link wl = {child_send, child_recv, &c};
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_exec_serve(&env, name, NULL, &wl, &err);
    /* A forked child ends here: exit handlers belong to the coordinator
     * (stdio buffers, the store, LeakSanitizer's report). */
    _exit(rc ? 1 : 0);
}

static int spawn(local_link *l, int k, nc_error *err)
{
    lworker *w = &l->w[k - 1];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return nc_error_set(err, NC_ERR_INTERNAL, "workers: socketpair: %s", strerror(errno));
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return nc_error_set(err, NC_ERR_INTERNAL, "workers: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(l, k, sv[1], parent);
    }
    close(sv[1]);
    w->pid = pid;
    w->fd = sv[0];
    w->in.len = 0;
    return NC_OK;
}

static int local_send(void *t, int k, const char *msg, nc_error *err)
{
    local_link *l = t;
    if (strlen(msg) > FRAME_MAX)
        return nc_error_set(err, NC_ERR_INTERNAL, "a message of %zu bytes for worker %d, over "
                            "the %u-byte frame limit", strlen(msg), k, FRAME_MAX);
    /* a worker that died shows as end of stream in recv, which handles it */
    send_frame(l->w[k - 1].fd, msg);
    return NC_OK;
}

static void reap(lworker *w, char *why, size_t size)
{
    close(w->fd);
    w->fd = -1;
    int status = 0;
    pid_t got;
    do
        got = waitpid(w->pid, &status, 0);
    while (got < 0 && errno == EINTR);
    if (got == w->pid && WIFSIGNALED(status))
        snprintf(why, size, "pid %d killed by signal %d", (int)w->pid, WTERMSIG(status));
    else if (got == w->pid && WIFEXITED(status))
        snprintf(why, size, "pid %d exited with status %d", (int)w->pid, WEXITSTATUS(status));
    else
        snprintf(why, size, "pid %d lost", (int)w->pid);
    w->pid = -1;
}

static int local_recv(void *t, int *k, char **msg, int *dead, char *why, size_t why_size, int ms,
                      nc_error *err)
{
    local_link *l = t;
    *k = 0;
    *msg = NULL;
    *dead = 0;
    for (int j = 0; j < l->n; j++) {
        int bad;
        if (l->w[j].fd >= 0 && (*msg = take_frame(&l->w[j].in, &bad)) != NULL)
            return *k = j + 1, NC_OK;
    }
    struct pollfd *fds = l->n > 0 && l->n <= 1024 ? calloc((size_t)l->n, sizeof *fds) : NULL;
    if (!fds)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (int j = 0; j < l->n; j++) {
        fds[j].fd = l->w[j].fd;
        fds[j].events = POLLIN;
    }
    int n = poll(fds, (nfds_t)l->n, ms);
    for (int j = 0; n > 0 && j < l->n && !*k; j++) {
        if (!fds[j].revents)
            continue;
        lworker *w = &l->w[j];
        int got = fill(w->fd, &w->in), bad = 0;
        if (got > 0 && (*msg = take_frame(&w->in, &bad)) != NULL) {
            *k = j + 1;
        } else if (got <= 0 || bad) {
            reap(w, why, why_size);
            *dead = 1;
            *k = j + 1;
        }
    }
    free(fds);
    return NC_OK;
}

static int local_restart(void *t, int k, nc_error *err)
{
    return spawn(t, k, err);
}

static void local_destroy(void *t, int ok)
{
    local_link *l = t;
    (void)ok;
    if (!l)
        return;
    for (int j = 0; j < l->n; j++) {
        lworker *w = &l->w[j];
        if (w->fd >= 0) {
            /* idle or not, nothing a worker holds is worth waiting for:
             * its finished results are stored, the rest is redone */
            kill(w->pid, SIGKILL);
            char why[64];
            reap(w, why, sizeof why);
        }
        free(w->in.data);
    }
    free(l->w);
    free(l);
}

static const nc_link_ops local_ops = {"workers", local_send, local_recv, local_restart,
                                      local_destroy};

int nc_exec_local_create(const nc_exec_env *env, int n, int threads, nc_executor *out,
                         nc_error *err)
{
    if (n < 1 || n > 1024)
        return nc_error_set(err, NC_ERR_INPUT, "run.workers: %d, expected 1..1024", n);
    local_link *l = calloc(1, sizeof *l);
    if (l)
        l->w = calloc((size_t)n, sizeof *l->w);
    if (!l || !l->w) {
        free(l);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    l->env = env;
    l->n = n;
    l->threads = threads;
    for (int j = 0; j < n; j++)
        l->w[j].fd = -1;
    int rc = NC_OK;
    for (int k = 1; k <= n && !rc; k++)
        rc = spawn(l, k, err);
    if (rc) {
        local_destroy(l, 0);
        return rc;
    }
    return nc_exec_pool_create(env, &local_ops, l, n, out, err);
}
