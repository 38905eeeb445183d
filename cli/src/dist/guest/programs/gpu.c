/* The guest programs' shared i915 uAPI layer; see gpu.h. */
#include "gpu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/sync_file.h>

static int xioctl(int fd, unsigned long request, void *arg)
{
	int r;
	do {
		r = ioctl(fd, request, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r == -1 ? -errno : 0;
}

void gpu_fail(struct gpu *g, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: FAILED: ", g->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

const char *class_name(unsigned class)
{
	switch (class) {
	case I915_ENGINE_CLASS_RENDER: return "rcs";
	case I915_ENGINE_CLASS_COPY: return "bcs";
	case I915_ENGINE_CLASS_VIDEO: return "vcs";
	case I915_ENGINE_CLASS_VIDEO_ENHANCE: return "vecs";
	default: return "unknown";
	}
}

/* The engines i915 reports (DRM_I915_QUERY_ENGINE_INFO), each with its legacy ring selector. */
static void discover_engines(struct gpu *g)
{
	struct drm_i915_query_item item = { .query_id = DRM_I915_QUERY_ENGINE_INFO };
	struct drm_i915_query q = { .num_items = 1, .items_ptr = (uintptr_t)&item };
	int r = xioctl(g->fd, DRM_IOCTL_I915_QUERY, &q);
	if (r || item.length <= 0)
		gpu_fail(g, "DRM_I915_QUERY_ENGINE_INFO (size): %s", strerror(r ? -r : -item.length));
	struct drm_i915_query_engine_info *info = calloc(1, item.length);
	item.data_ptr = (uintptr_t)info;
	r = xioctl(g->fd, DRM_IOCTL_I915_QUERY, &q);
	if (r || item.length <= 0)
		gpu_fail(g, "DRM_I915_QUERY_ENGINE_INFO: %s", strerror(r ? -r : -item.length));
	int videos = 0;
	for (unsigned i = 0; i < info->num_engines; i++)
		videos += info->engines[i].engine.engine_class == I915_ENGINE_CLASS_VIDEO;
	for (unsigned i = 0; i < info->num_engines && g->nengines < MAX_ENGINES; i++) {
		struct i915_engine_class_instance ci = info->engines[i].engine;
		struct engine *e = &g->engines[g->nengines];
		e->class = ci.engine_class;
		e->instance = ci.engine_instance;
		snprintf(e->name, sizeof e->name, "%s%u", class_name(ci.engine_class), ci.engine_instance);
		switch (ci.engine_class) {
		case I915_ENGINE_CLASS_RENDER:
			e->ring = I915_EXEC_RENDER;
			break;
		case I915_ENGINE_CLASS_COPY:
			e->ring = I915_EXEC_BLT;
			break;
		case I915_ENGINE_CLASS_VIDEO:
			/* with two video engines the legacy selector names the instance; with one it must not */
			e->ring = I915_EXEC_BSD | (videos > 1 ? (uint64_t)(ci.engine_instance + 1) << I915_EXEC_BSD_SHIFT : 0);
			if (videos > 2)
				continue; /* beyond the legacy selectors: not addressed */
			break;
		case I915_ENGINE_CLASS_VIDEO_ENHANCE:
			e->ring = I915_EXEC_VEBOX;
			if (ci.engine_instance > 0)
				continue;
			break;
		default:
			continue;
		}
		g->nengines++;
	}
	if (g->nengines == 0)
		gpu_fail(g, "DRM_I915_QUERY_ENGINE_INFO reported no engine this program can address (%u engines, %d bytes)",
			 info->num_engines, item.length);
	free(info);
}

void gpu_open(struct gpu *g, const char *prog)
{
	memset(g, 0, sizeof *g);
	g->prog = prog;
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *paths[] = { "/dev/dri/renderD128", "/dev/dri/card0" };
	g->fd = -1;
	for (unsigned i = 0; i < 2 && g->fd < 0; i++)
		g->fd = open(paths[i], O_RDWR | O_CLOEXEC);
	if (g->fd < 0)
		gpu_fail(g, "opening /dev/dri/renderD128 and /dev/dri/card0: %s", strerror(errno));
	struct drm_version v = { 0 };
	char name[32] = { 0 };
	v.name = name;
	v.name_len = sizeof name - 1;
	if (xioctl(g->fd, DRM_IOCTL_VERSION, &v) || strcmp(name, "i915") != 0)
		gpu_fail(g, "the DRM device is not i915 (driver '%s')", name);
	discover_engines(g);
}

int gpu_engines_of(struct gpu *g, int class, struct engine **out, int max)
{
	int n = 0;
	for (int i = 0; i < g->nengines && n < max; i++)
		if (class < 0 || g->engines[i].class == class)
			out[n++] = &g->engines[i];
	return n;
}

uint32_t bo_create(struct gpu *g, uint64_t size)
{
	struct drm_i915_gem_create c = { .size = size };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_CREATE, &c);
	if (r)
		gpu_fail(g, "GEM_CREATE of %llu bytes: %s", (unsigned long long)size, strerror(-r));
	return c.handle;
}

void bo_close(struct gpu *g, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };
	int r = xioctl(g->fd, DRM_IOCTL_GEM_CLOSE, &c);
	if (r)
		gpu_fail(g, "GEM_CLOSE of handle %u: %s", handle, strerror(-r));
}

void bo_write(struct gpu *g, uint32_t handle, uint64_t offset, const void *data, uint64_t len)
{
	struct drm_i915_gem_pwrite w = { .handle = handle, .offset = offset, .size = len, .data_ptr = (uintptr_t)data };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_PWRITE, &w);
	if (r)
		gpu_fail(g, "GEM_PWRITE of %llu bytes to handle %u: %s", (unsigned long long)len, handle, strerror(-r));
}

void bo_read(struct gpu *g, uint32_t handle, uint64_t offset, void *data, uint64_t len)
{
	struct drm_i915_gem_pread p = { .handle = handle, .offset = offset, .size = len, .data_ptr = (uintptr_t)data };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_PREAD, &p);
	if (r)
		gpu_fail(g, "GEM_PREAD of %llu bytes from handle %u: %s", (unsigned long long)len, handle, strerror(-r));
}

void *bo_map(struct gpu *g, uint32_t handle, uint64_t size)
{
	struct drm_i915_gem_mmap_offset m = { .handle = handle, .flags = I915_MMAP_OFFSET_WB };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_MMAP_OFFSET, &m);
	if (r)
		gpu_fail(g, "GEM_MMAP_OFFSET (WB) of handle %u: %s", handle, strerror(-r));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, m.offset);
	if (p == MAP_FAILED)
		gpu_fail(g, "mmap of handle %u: %s", handle, strerror(errno));
	struct drm_i915_gem_set_domain d = { .handle = handle, .read_domains = I915_GEM_DOMAIN_CPU };
	r = xioctl(g->fd, DRM_IOCTL_I915_GEM_SET_DOMAIN, &d);
	if (r)
		gpu_fail(g, "GEM_SET_DOMAIN (CPU) of handle %u: %s", handle, strerror(-r));
	return p;
}

int bo_wait(struct gpu *g, uint32_t handle, int64_t timeout_ns)
{
	struct drm_i915_gem_wait w = { .bo_handle = handle, .timeout_ns = timeout_ns };
	int r = ioctl(g->fd, DRM_IOCTL_I915_GEM_WAIT, &w);
	return r == -1 ? -errno : 0;
}

uint32_t ctx_create(struct gpu *g)
{
	struct drm_i915_gem_context_create c = { 0 };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_CONTEXT_CREATE, &c);
	if (r)
		gpu_fail(g, "GEM_CONTEXT_CREATE: %s", strerror(-r));
	return c.ctx_id;
}

void ctx_destroy(struct gpu *g, uint32_t ctx)
{
	struct drm_i915_gem_context_destroy d = { .ctx_id = ctx };
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_CONTEXT_DESTROY, &d);
	if (r)
		gpu_fail(g, "GEM_CONTEXT_DESTROY of context %u: %s", ctx, strerror(-r));
}

void batch_init(struct batch *b)
{
	memset(b, 0, sizeof *b);
}

void batch_free(struct batch *b)
{
	free(b->dw);
	free(b->relocs);
	memset(b, 0, sizeof *b);
}

void batch_emit(struct batch *b, uint32_t dw)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->dw = realloc(b->dw, b->cap * sizeof *b->dw);
		if (!b->dw) {
			perror("realloc");
			exit(1);
		}
	}
	b->dw[b->n++] = dw;
}

void batch_address(struct batch *b, uint32_t target, uint32_t delta, int write)
{
	if (b->nrelocs == b->relcap) {
		b->relcap = b->relcap ? 2 * b->relcap : 256;
		b->relocs = realloc(b->relocs, b->relcap * sizeof *b->relocs);
		if (!b->relocs) {
			perror("realloc");
			exit(1);
		}
	}
	struct drm_i915_gem_relocation_entry *r = &b->relocs[b->nrelocs++];
	memset(r, 0, sizeof *r);
	r->target_handle = target;
	r->delta = delta;
	r->offset = b->n * 4ull;
	r->presumed_offset = 0; /* what the batch holds now: delta, i.e. address 0 + delta */
	r->read_domains = I915_GEM_DOMAIN_RENDER;
	r->write_domain = write ? I915_GEM_DOMAIN_RENDER : 0;
	batch_emit(b, delta);
	batch_emit(b, 0);
}

void batch_store(struct batch *b, uint32_t target, uint32_t offset, uint32_t value)
{
	batch_emit(b, CMD_MI_STORE_DWORD_IMM);
	batch_address(b, target, offset, 1);
	batch_emit(b, value);
}

void batch_end(struct batch *b)
{
	batch_emit(b, CMD_MI_BATCH_BUFFER_END);
	if (b->n & 1)
		batch_emit(b, CMD_MI_NOOP);
}

int gpu_submit(struct gpu *g, const struct engine *e, uint32_t ctx, struct batch *b, const struct objects *o,
	       int in_fence, int *out_fence, uint32_t *batch_handle)
{
	uint64_t size = ((uint64_t)b->n * 4 + 4095) & ~4095ull;
	uint32_t bb = bo_create(g, size);
	bo_write(g, bb, 0, b->dw, (uint64_t)b->n * 4);
	struct drm_i915_gem_exec_object2 obj[33];
	unsigned n = o ? o->n : 0;
	memset(obj, 0, sizeof obj);
	for (unsigned i = 0; i < n; i++) {
		obj[i].handle = o->handle[i];
		obj[i].flags = o->flags[i];
	}
	obj[n].handle = bb;
	obj[n].relocation_count = b->nrelocs;
	obj[n].relocs_ptr = (uintptr_t)b->relocs;
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)obj,
		.buffer_count = n + 1,
		.batch_len = b->n * 4,
		.flags = e->ring | (in_fence >= 0 ? I915_EXEC_FENCE_IN : 0) | (out_fence ? I915_EXEC_FENCE_OUT : 0),
		.rsvd2 = in_fence >= 0 ? (uint32_t)in_fence : 0,
	};
	i915_execbuffer2_set_context_id(eb, ctx);
	int r = xioctl(g->fd, DRM_IOCTL_I915_GEM_EXECBUFFER2_WR, &eb);
	if (r == 0) {
		g->submissions++;
		if (out_fence)
			*out_fence = (int)(eb.rsvd2 >> 32);
	}
	if (batch_handle && r == 0)
		*batch_handle = bb;
	else
		bo_close(g, bb); /* i915 keeps the object alive until the request retires */
	return r;
}

void gpu_submit_ok(struct gpu *g, const struct engine *e, uint32_t ctx, struct batch *b, const struct objects *o,
		   int in_fence, int *out_fence)
{
	int r = gpu_submit(g, e, ctx, b, o, in_fence, out_fence, NULL);
	if (r)
		gpu_fail(g, "execbuf on %s in context %u (%u dwords, %u relocations): %s", e->name, ctx, b->n, b->nrelocs,
			 strerror(-r));
}

int fence_wait(struct gpu *g, int fence, int timeout_ms, const char *what)
{
	struct pollfd p = { .fd = fence, .events = POLLIN };
	int r;
	do {
		r = poll(&p, 1, timeout_ms);
	} while (r == -1 && errno == EINTR);
	if (r < 0)
		gpu_fail(g, "poll on the out-fence of %s: %s", what, strerror(errno));
	if (r == 0)
		gpu_fail(g, "the out-fence of %s did not signal within %d ms", what, timeout_ms);
	struct sync_file_info info = { 0 };
	if (xioctl(fence, SYNC_IOC_FILE_INFO, &info))
		gpu_fail(g, "SYNC_IOC_FILE_INFO on the out-fence of %s: %s", what, strerror(errno));
	if (info.status == 0)
		gpu_fail(g, "the out-fence of %s polled readable but is not signalled", what);
	g->fences++;
	return info.status;
}

void check_value(struct gpu *g, const char *what, long index, uint32_t got, uint32_t expected)
{
	g->checked++;
	if (got != expected) {
		if (g->mismatches < 10)
			fprintf(stderr, "%s: mismatch: %s [%ld]: 0x%08x, expected 0x%08x\n", g->prog, what, index, got, expected);
		g->mismatches++;
	}
}

int gpu_report(struct gpu *g)
{
	printf("%s: values checked %ld, mismatches %ld, submissions %ld, fences %ld\n", g->prog, g->checked, g->mismatches,
	       g->submissions, g->fences);
	if (g->checked == 0)
		gpu_fail(g, "no value was checked");
	if (g->mismatches)
		gpu_fail(g, "%ld of %ld values differ from what was submitted", g->mismatches, g->checked);
	return 0;
}

uint32_t value_of(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t v = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 1) * 0xC2B2AE3Du;
	v ^= v >> 15;
	v *= 0x2C1B3C6Du;
	v ^= v >> 13;
	return v == 0 || v == POISON ? v + 0x101u : v;
}

void store_round(struct gpu *g, struct engine **list, int nlist, int contexts, int batches, int stores, uint32_t seed)
{
	uint32_t *ctx = calloc(contexts, sizeof *ctx);
	uint32_t *target = calloc(nlist, sizeof *target);
	uint64_t size = ((uint64_t)contexts * batches * stores * 4 + 4095) & ~4095ull;
	uint32_t *poison = malloc(size);
	for (uint64_t i = 0; i < size / 4; i++)
		poison[i] = POISON;
	for (int c = 0; c < contexts; c++)
		ctx[c] = ctx_create(g);
	for (int e = 0; e < nlist; e++) {
		target[e] = bo_create(g, size);
		bo_write(g, target[e], 0, poison, size);
	}
	/* all in flight at once: context by context, engine by engine, batch by batch */
	for (int c = 0; c < contexts; c++) {
		for (int e = 0; e < nlist; e++) {
			for (int k = 0; k < batches; k++) {
				struct batch b;
				batch_init(&b);
				for (int i = 0; i < stores; i++) {
					uint32_t slot = ((uint32_t)(c * batches + k) * stores + i);
					batch_store(&b, target[e], slot * 4, value_of(seed + e, c, slot));
				}
				batch_end(&b);
				struct objects o = { .handle = { target[e] }, .flags = { EXEC_OBJECT_WRITE }, .n = 1 };
				gpu_submit_ok(g, list[e], ctx[c], &b, &o, -1, NULL);
				batch_free(&b);
			}
		}
	}
	uint32_t *got = malloc(size);
	for (int e = 0; e < nlist; e++) {
		int r = bo_wait(g, target[e], 60000000000ll);
		if (r)
			gpu_fail(g, "GEM_WAIT for the stores on %s: %s", list[e]->name, strerror(-r));
		bo_read(g, target[e], 0, got, size);
		uint32_t *map = bo_map(g, target[e], size);
		char what[64];
		snprintf(what, sizeof what, "stores on %s", list[e]->name);
		long slots = (long)contexts * batches * stores;
		for (long s = 0; s < slots; s++) {
			uint32_t expected = value_of(seed + e, s / ((long)batches * stores), (uint32_t)s);
			check_value(g, what, s, got[s], expected);
			if (map[s] != got[s]) { /* the CPU mapping must see what pread saw */
				check_value(g, "the CPU mapping", s, map[s], got[s]);
			}
		}
		for (uint64_t s = slots; s < size / 4; s++)
			if (got[s] != POISON)
				check_value(g, "beyond the stores", (long)s, got[s], POISON);
		munmap(map, size);
		bo_close(g, target[e]);
	}
	for (int c = 0; c < contexts; c++)
		ctx_destroy(g, ctx[c]);
	free(got);
	free(poison);
	free(ctx);
	free(target);
}
