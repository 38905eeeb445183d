/*
 * The small i915 uAPI layer the project's guest programs share (jgvt-*.c beside this file): the device,
 * engine discovery (DRM_I915_QUERY_ENGINE_INFO), GEM objects, contexts, batches with relocations,
 * execbuf with sync_file fences, and the counting of checked values. Written against the kernel's
 * uAPI headers (linux-libc-dev: <drm/i915_drm.h>, <linux/sync_file.h>); no libdrm.
 *
 * Every failure is one line on stderr, "PROGRAM: FAILED: what", and exit status 1; a run that checked
 * everything prints "PROGRAM: values checked N, mismatches M" and exits 0 only when M is 0.
 */
#ifndef JGVT_GPU_H
#define JGVT_GPU_H

#include <stdint.h>
#include <stddef.h>
#include <drm/i915_drm.h>

/* Gen9 command encodings the programs emit (Intel's Skylake PRM, volume 2a/2b). */
#define CMD_MI_NOOP               0x00000000u
#define CMD_MI_BATCH_BUFFER_END   (0x0Au << 23)
#define CMD_MI_ARB_CHECK          (0x05u << 23)
#define CMD_MI_STORE_DWORD_IMM    ((0x20u << 23) | 2u)           /* dw0; address lo, hi; value */
#define CMD_MI_FLUSH_DW           ((0x26u << 23) | 2u)           /* dw0; address lo, hi; value */
#define CMD_MI_BATCH_BUFFER_START ((0x31u << 23) | (1u << 8) | 1u) /* PPGTT address space; address lo, hi */
#define CMD_XY_COLOR_BLT          ((2u << 29) | (0x50u << 22) | (3u << 20) | 5u)
#define CMD_XY_SRC_COPY_BLT       ((2u << 29) | (0x53u << 22) | (3u << 20) | 8u)
#define BR13_32BPP                (3u << 24)
#define ROP_PATCOPY               (0xF0u << 16)
#define ROP_SRCCOPY               (0xCCu << 16)

#define MAX_ENGINES 16

struct engine {
	char name[16];          /* rcs0, bcs0, vcs0, vcs1, vecs0 */
	uint16_t class;         /* I915_ENGINE_CLASS_* */
	uint16_t instance;
	uint64_t ring;          /* the legacy execbuf ring selector (I915_EXEC_RENDER, ...) */
};

struct gpu {
	int fd;
	const char *prog;
	struct engine engines[MAX_ENGINES];
	int nengines;
	long checked;           /* values compared with what was expected */
	long mismatches;
	long submissions;
	long fences;            /* out-fences waited for and found signalled */
};

/* A batch under construction: dwords, and the relocations of the addresses in it. */
struct batch {
	uint32_t *dw;
	unsigned n, cap;
	struct drm_i915_gem_relocation_entry *relocs;
	unsigned nrelocs, relcap;
};

/* Objects an execbuf uses besides its batch, with the flags (EXEC_OBJECT_WRITE, _ASYNC) for each. */
struct objects {
	uint32_t handle[32];
	uint64_t flags[32];
	unsigned n;
};

void gpu_open(struct gpu *g, const char *prog);
void gpu_fail(struct gpu *g, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* Engines of the given class (or all with class < 0) into out; returns how many. */
int gpu_engines_of(struct gpu *g, int class, struct engine **out, int max);
const char *class_name(unsigned class);

uint32_t bo_create(struct gpu *g, uint64_t size);
void bo_close(struct gpu *g, uint32_t handle);
void bo_write(struct gpu *g, uint32_t handle, uint64_t offset, const void *data, uint64_t len);
void bo_read(struct gpu *g, uint32_t handle, uint64_t offset, void *data, uint64_t len);
void *bo_map(struct gpu *g, uint32_t handle, uint64_t size);   /* write-back CPU mapping, CPU domain set */
/* GEM_WAIT: 0 when idle, else -errno (-ETIME when still busy after timeout_ns). */
int bo_wait(struct gpu *g, uint32_t handle, int64_t timeout_ns);

uint32_t ctx_create(struct gpu *g);
void ctx_destroy(struct gpu *g, uint32_t ctx);

void batch_init(struct batch *b);
void batch_free(struct batch *b);
void batch_emit(struct batch *b, uint32_t dw);
/* Emits a 64-bit GPU address of target+delta (two dwords) and its relocation. */
void batch_address(struct batch *b, uint32_t target, uint32_t delta, int write);
void batch_store(struct batch *b, uint32_t target, uint32_t offset, uint32_t value);
void batch_end(struct batch *b);

/*
 * Submits the batch (copied into a new object) on the engine in context ctx with the other objects.
 * in_fence >= 0 is waited for first (I915_EXEC_FENCE_IN); with out_fence the request's sync_file is
 * returned. Returns 0 or -errno; the batch object's handle in *batch_handle if not NULL (else closed).
 */
int gpu_submit(struct gpu *g, const struct engine *e, uint32_t ctx, struct batch *b, const struct objects *o,
	       int in_fence, int *out_fence, uint32_t *batch_handle);
/* As gpu_submit, failing the program on an error. */
void gpu_submit_ok(struct gpu *g, const struct engine *e, uint32_t ctx, struct batch *b, const struct objects *o,
		   int in_fence, int *out_fence);

/*
 * Waits with poll() up to timeout_ms for a sync_file and returns its status (SYNC_IOC_FILE_INFO:
 * 1 signalled, < 0 signalled with that error); fails the program when it does not signal in time.
 */
int fence_wait(struct gpu *g, int fence, int timeout_ms, const char *what);

/* Counts one checked value; a mismatch is printed (the first 10) and counted. */
void check_value(struct gpu *g, const char *what, long index, uint32_t got, uint32_t expected);
/* Prints the totals line and returns the exit status (0 only with values checked and no mismatch). */
int gpu_report(struct gpu *g);

/* A value no store leaves in memory by accident: distinct per (a, b, c), never 0 or the poison. */
uint32_t value_of(uint32_t a, uint32_t b, uint32_t c);
#define POISON 0x5A5A5A5Au

double now_seconds(void);

/*
 * Stores on each engine of list through contexts: every context submits batches of stores to its own
 * slots of one object per engine, all in flight at once; then every slot is read back (pread and a CPU
 * mapping) and checked. Used by jgvt-store and, after the reset, by jgvt-hang.
 */
void store_round(struct gpu *g, struct engine **list, int nlist, int contexts, int batches, int stores, uint32_t seed);

#endif
