/*
 * gvt bench vfio-user: the out-of-process client and the raw baseline's server.
 * Compiled at bench time (gcc -O2). Written for this project.
 *
 *   vfu-bench echo   RAW_SOCKET CPU
 *       accepts one client; each request carries its own size (u32 at byte 4) and the reply size
 *       (u32 at byte 8); answers with that many bytes; one recv per request when the bytes are there.
 *   vfu-bench client VFU_SOCKET RAW_SOCKET CPU ROUNDS OPS REGISTER [VFU_SCHEDSTAT RAW_SCHEDSTAT]
 *       vfio-user VERSION, then interleaved rounds of: 4-byte REGION_WRITE to BAR0 REGISTER and its reply
 *       (36 B out, 32 B back), the same sizes raw, 4-byte REGION_READ (32 B out, 36 B back), the same raw;
 *       prints "KIND p50_ns p99_ns median_of_round_means_ns count client_cpu_ns server_cpu_ns server_runs_milli"
 *       per kind: the last three per operation over all rounds, the client's own CPU time
 *       (CLOCK_THREAD_CPUTIME_ID) and, from the /proc/.../schedstat files of the vfio-user serving thread and
 *       the raw server (-1 without them), the CPU time of the server that answered and its times on a CPU
 *       (x1000). After each warm-up batch
 *       prints "warm" and reads a line: "go" starts the measured rounds, anything else asks for another batch;
 *       after the figures prints "end" and waits for a line (the bench reads CPU counters at both points).
 * CPU -1 leaves the placement alone.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

static void place(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static int dial(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0) die("connect");
    return fd;
}

static void put_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) { ssize_t r = send(fd, p, n, MSG_NOSIGNAL); if (r <= 0) die("send"); p += r; n -= (size_t) r; }
}

static void get_all(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n > 0) { ssize_t r = recv(fd, p, n, 0); if (r <= 0) die("recv"); p += r; n -= (size_t) r; }
}

static int echo(const char *path, int cpu) {
    place(cpu);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    unlink(path);
    if (bind(l, (struct sockaddr *) &a, sizeof a) != 0 || listen(l, 1) != 0) die("bind/listen");
    printf("ready\n"); fflush(stdout);
    int c = accept(l, NULL, NULL);
    if (c < 0) die("accept");
    unsigned char in[256], out[256];
    memset(out, 0, sizeof out);
    for (;;) {
        size_t have = 0;
        ssize_t r = recv(c, in, sizeof in, 0);
        if (r <= 0) return 0;
        have = (size_t) r;
        while (have < 12) { r = recv(c, in + have, sizeof in - have, 0); if (r <= 0) return 0; have += (size_t) r; }
        uint32_t size, reply; memcpy(&size, in + 4, 4); memcpy(&reply, in + 8, 4);
        while (have < size) { r = recv(c, in + have, size - have, 0); if (r <= 0) return 0; have += (size_t) r; }
        memcpy(out, in, 4);
        put_all(c, out, reply);
    }
}

static uint64_t now_ns(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b; return x < y ? -1 : x > y;
}

struct hdr { uint16_t id, cmd; uint32_t size, flags, error; } __attribute__((packed));
struct access { struct hdr h; uint64_t offset; uint32_t region, count; uint32_t data; } __attribute__((packed));

static uint16_t next_id;

/* run time (ns) and times run from a schedstat file; zeros if unreadable */
static void schedstat(int fd, uint64_t *run, uint64_t *runs) {
    char b[128]; unsigned long long a = 0, w = 0, c = 0;
    ssize_t n = fd < 0 ? -1 : pread(fd, b, sizeof b - 1, 0);
    if (n > 0) { b[n] = 0; sscanf(b, "%llu %llu %llu", &a, &w, &c); }
    *run = a; *runs = c;
}

static uint64_t thread_cpu_ns(void) {
    struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static void vfu_call(int fd, uint16_t cmd, uint32_t region, uint64_t offset, int write, uint32_t value, void *reply, size_t reply_size) {
    struct access m; memset(&m, 0, sizeof m);
    m.h.id = ++next_id; m.h.cmd = cmd; m.h.size = write ? 36 : 32;
    m.offset = offset; m.region = region; m.count = 4; m.data = value;
    put_all(fd, &m, m.h.size);
    get_all(fd, reply, reply_size);
    struct hdr *h = reply;
    if (h->id != m.h.id || (h->flags & 0x20)) { fprintf(stderr, "bad reply id %u flags 0x%x error %u\n", h->id, h->flags, h->error); exit(1); }
}

static void raw_call(int fd, uint32_t size, uint32_t reply_size, unsigned char *buf) {
    memset(buf, 0, size);
    memcpy(buf + 4, &size, 4); memcpy(buf + 8, &reply_size, 4);
    put_all(fd, buf, size);
    get_all(fd, buf, reply_size);
}

enum { VFU_WRITE, RAW_WRITE, VFU_READ, RAW_READ, KINDS };
static const char *NAMES[KINDS] = {"vfu_write", "raw_36_32", "vfu_read", "raw_32_36"};

static int client(const char *vfu, const char *raw, int cpu, int rounds, int ops, uint64_t reg, const char *vfu_stat,
                  const char *raw_stat) {
    place(cpu);
    int stat_fd[2] = {vfu_stat ? open(vfu_stat, O_RDONLY) : -1, raw_stat ? open(raw_stat, O_RDONLY) : -1};
    uint64_t client_cpu[KINDS] = {0}, server_cpu[KINDS] = {0}, server_runs[KINDS] = {0};
    int v = dial(vfu), r = dial(raw);
    /* VERSION */
    const char *json = "{\"capabilities\":{\"max_msg_fds\":8}}";
    unsigned char msg[256]; memset(msg, 0, sizeof msg);
    struct hdr *h = (struct hdr *) msg;
    uint32_t jl = (uint32_t) strlen(json) + 1;
    h->id = ++next_id; h->cmd = 1; h->size = 16 + 4 + jl;
    uint16_t major = 0, minor = 2; memcpy(msg + 16, &major, 2); memcpy(msg + 18, &minor, 2);
    memcpy(msg + 20, json, jl);
    put_all(v, msg, h->size);
    get_all(v, msg, 16);
    if (h->flags & 0x20) { fprintf(stderr, "VERSION refused: errno %u\n", h->error); return 1; }
    unsigned char rest[4096]; if (h->size > 16) get_all(v, rest, h->size - 16);
    unsigned char reply[64];
    /* PCI command register: memory space + bus master (config region 7) */
    {
        struct access m; memset(&m, 0, sizeof m);
        m.h.id = ++next_id; m.h.cmd = 10; m.h.size = 16 + 16 + 2; m.offset = 4; m.region = 7; m.count = 2; m.data = 6;
        put_all(v, &m, m.h.size); get_all(v, reply, 32);
    }
    uint64_t *lat[KINDS]; double *means[KINDS];
    for (int k = 0; k < KINDS; k++) { lat[k] = calloc((size_t) rounds * ops, 8); means[k] = calloc((size_t) rounds, sizeof(double)); }
    unsigned char buf[64];
    /* warm-up: batches until the bench answers "go" to "warm" (the server's JIT has settled), at most 20 */
    char answer[16] = "more";
    for (int w = 0; w < 20 && strncmp(answer, "go", 2) != 0; w++) {
        for (int i = 0; i < 20000; i++) { vfu_call(v, 10, 0, reg, 1, i, reply, 32); vfu_call(v, 9, 0, reg, 0, 0, reply, 36); raw_call(r, 36, 32, buf); }
        printf("warm\n"); fflush(stdout);
        if (!fgets(answer, sizeof answer, stdin)) break;
    }
    for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < KINDS; k++) {
            uint64_t *out = lat[k] + (size_t) round * ops;
            int server = k == VFU_WRITE || k == VFU_READ ? 0 : 1;
            uint64_t run0, runs0, run1, runs1;
            schedstat(stat_fd[server], &run0, &runs0);
            uint64_t c0 = thread_cpu_ns();
            uint64_t t0 = now_ns();
            for (int i = 0; i < ops; i++) {
                uint64_t a = now_ns();
                switch (k) {
                    case VFU_WRITE: vfu_call(v, 10, 0, reg, 1, i, reply, 32); break;
                    case RAW_WRITE: raw_call(r, 36, 32, buf); break;
                    case VFU_READ: vfu_call(v, 9, 0, reg, 0, 0, reply, 36); break;
                    default: raw_call(r, 32, 36, buf); break;
                }
                out[i] = now_ns() - a;
            }
            means[k][round] = (double) (now_ns() - t0) / ops;
            client_cpu[k] += thread_cpu_ns() - c0;
            schedstat(stat_fd[server], &run1, &runs1);
            server_cpu[k] += run1 - run0; server_runs[k] += runs1 - runs0;
        }
    }
    for (int k = 0; k < KINDS; k++) {
        size_t n = (size_t) rounds * ops;
        qsort(lat[k], n, 8, cmp_u64);
        double *m = means[k];
        for (int i = 1; i < rounds; i++) for (int j = i; j > 0 && m[j - 1] > m[j]; j--) { double t = m[j]; m[j] = m[j - 1]; m[j - 1] = t; }
        int known = stat_fd[k == VFU_WRITE || k == VFU_READ ? 0 : 1] >= 0;
        printf("%s %llu %llu %.0f %zu %.0f %.0f %.0f\n", NAMES[k], (unsigned long long) lat[k][n / 2],
               (unsigned long long) lat[k][(size_t) (n * 0.99)], m[rounds / 2], n, (double) client_cpu[k] / n,
               known ? (double) server_cpu[k] / n : -1.0, known ? 1000.0 * server_runs[k] / n : -1.0);
    }
    printf("end\n"); fflush(stdout); (void) getchar();
    close(v); close(r);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "echo") == 0) return echo(argv[2], atoi(argv[3]));
    if ((argc == 8 || argc == 10) && strcmp(argv[1], "client") == 0)
        return client(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), strtoull(argv[7], NULL, 0),
                      argc == 10 ? argv[8] : NULL, argc == 10 ? argv[9] : NULL);
    fprintf(stderr, "usage: vfu-bench echo RAW CPU | client VFU RAW CPU ROUNDS OPS REGISTER [VFU_SCHEDSTAT RAW_SCHEDSTAT]\n");
    return 2;
}
