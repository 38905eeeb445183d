/*
 * jgvt-blit [-c CONTEXTS] [-r RECTS]: the copy engine's 2D commands on linear 32-bpp surfaces, through
 * CONTEXTS contexts. Each context fills a destination with XY_COLOR_BLT, fills RECTS rectangles with
 * their own colours, copies RECTS rectangles of a source the CPU wrote (GEM_PWRITE) with XY_SRC_COPY_BLT,
 * then (after MI_FLUSH_DW) copies the whole destination into a second surface; the CPU computes both
 * results and compares every pixel (GEM_PREAD). Exit 0 only when every pixel is right.
 */
#include "gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define W 256
#define H 64
#define PITCH (W * 4)
#define SIZE (PITCH * H)

struct rect { int x1, y1, x2, y2; };

static uint32_t next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static struct rect random_rect(uint32_t *s)
{
	struct rect r;
	r.x1 = next(s) % (W - 1);
	r.y1 = next(s) % (H - 1);
	r.x2 = r.x1 + 1 + next(s) % (W - r.x1);
	r.y2 = r.y1 + 1 + next(s) % (H - r.y1);
	return r;
}

static void color_blt(struct batch *b, uint32_t dst, struct rect r, uint32_t color)
{
	batch_emit(b, CMD_XY_COLOR_BLT);
	batch_emit(b, BR13_32BPP | ROP_PATCOPY | PITCH);
	batch_emit(b, (uint32_t)r.y1 << 16 | (uint32_t)r.x1);
	batch_emit(b, (uint32_t)r.y2 << 16 | (uint32_t)r.x2);
	batch_address(b, dst, 0, 1);
	batch_emit(b, color);
}

static void copy_blt(struct batch *b, uint32_t dst, struct rect r, uint32_t src, int sx, int sy)
{
	batch_emit(b, CMD_XY_SRC_COPY_BLT);
	batch_emit(b, BR13_32BPP | ROP_SRCCOPY | PITCH);
	batch_emit(b, (uint32_t)r.y1 << 16 | (uint32_t)r.x1);
	batch_emit(b, (uint32_t)r.y2 << 16 | (uint32_t)r.x2);
	batch_address(b, dst, 0, 1);
	batch_emit(b, (uint32_t)sy << 16 | (uint32_t)sx);
	batch_emit(b, PITCH);
	batch_address(b, src, 0, 0);
}

int main(int argc, char **argv)
{
	int contexts = 8, rects = 8, opt;
	while ((opt = getopt(argc, argv, "c:r:")) != -1) {
		switch (opt) {
		case 'c': contexts = atoi(optarg); break;
		case 'r': rects = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: jgvt-blit [-c CONTEXTS] [-r RECTS]\n");
			return 2;
		}
	}
	if (contexts < 1 || rects < 0 || rects > 256) {
		fprintf(stderr, "jgvt-blit: -c must be >= 1 and -r 0..256\n");
		return 2;
	}
	struct gpu g;
	gpu_open(&g, "jgvt-blit");
	struct engine *copy[MAX_ENGINES];
	int ncopy = gpu_engines_of(&g, I915_ENGINE_CLASS_COPY, copy, MAX_ENGINES);
	if (ncopy == 0)
		gpu_fail(&g, "i915 reports no copy engine");
	printf("jgvt-blit: %d copy engine(s); %d contexts, %dx%d 32-bpp linear surfaces, %d fills and %d copies each\n",
	       ncopy, contexts, W, H, rects, rects);
	double t0 = now_seconds();
	uint32_t *model = malloc(SIZE), *pattern = malloc(SIZE), *got = malloc(SIZE);
	uint32_t *src = calloc(contexts, 4), *dst = calloc(contexts, 4), *dst2 = calloc(contexts, 4), *ctx = calloc(contexts, 4);
	for (int c = 0; c < contexts; c++) {
		ctx[c] = ctx_create(&g);
		src[c] = bo_create(&g, SIZE);
		dst[c] = bo_create(&g, SIZE);
		dst2[c] = bo_create(&g, SIZE);
		for (int i = 0; i < W * H; i++)
			pattern[i] = value_of(0xB1, c, i);
		bo_write(&g, src[c], 0, pattern, SIZE);
		for (int i = 0; i < W * H; i++)
			pattern[i] = POISON;
		bo_write(&g, dst[c], 0, pattern, SIZE);
		bo_write(&g, dst2[c], 0, pattern, SIZE);
	}
	/* submit every context's batch, then check them all */
	for (int c = 0; c < contexts; c++) {
		struct batch b;
		batch_init(&b);
		uint32_t seed = 0x1234u + c;
		color_blt(&b, dst[c], (struct rect){ 0, 0, W, H }, value_of(0xB2, c, 0));
		for (int i = 0; i < rects; i++)
			color_blt(&b, dst[c], random_rect(&seed), value_of(0xB3, c, i));
		for (int i = 0; i < rects; i++) {
			struct rect r = random_rect(&seed);
			int sx = next(&seed) % (W - (r.x2 - r.x1) + 1), sy = next(&seed) % (H - (r.y2 - r.y1) + 1);
			copy_blt(&b, dst[c], r, src[c], sx, sy);
		}
		/* the whole destination, as the blitter wrote it, into the second surface */
		batch_emit(&b, CMD_MI_FLUSH_DW);
		batch_emit(&b, 0);
		batch_emit(&b, 0);
		batch_emit(&b, 0);
		copy_blt(&b, dst2[c], (struct rect){ 0, 0, W, H }, dst[c], 0, 0);
		batch_end(&b);
		struct objects o = { .handle = { src[c], dst[c], dst2[c] }, .flags = { 0, EXEC_OBJECT_WRITE, EXEC_OBJECT_WRITE },
				     .n = 3 };
		gpu_submit_ok(&g, copy[c % ncopy], ctx[c], &b, &o, -1, NULL);
		batch_free(&b);
	}
	for (int c = 0; c < contexts; c++) {
		/* the same rectangles and colours, drawn by the CPU */
		uint32_t seed = 0x1234u + c;
		for (int i = 0; i < W * H; i++) {
			model[i] = value_of(0xB2, c, 0);
			pattern[i] = value_of(0xB1, c, i);
		}
		for (int i = 0; i < rects; i++) {
			struct rect r = random_rect(&seed);
			for (int y = r.y1; y < r.y2; y++)
				for (int x = r.x1; x < r.x2; x++)
					model[y * W + x] = value_of(0xB3, c, i);
		}
		for (int i = 0; i < rects; i++) {
			struct rect r = random_rect(&seed);
			int sx = next(&seed) % (W - (r.x2 - r.x1) + 1), sy = next(&seed) % (H - (r.y2 - r.y1) + 1);
			for (int y = r.y1; y < r.y2; y++)
				for (int x = r.x1; x < r.x2; x++)
					model[y * W + x] = pattern[(sy + y - r.y1) * W + sx + x - r.x1];
		}
		int r = bo_wait(&g, dst2[c], 60000000000ll);
		if (r)
			gpu_fail(&g, "GEM_WAIT for context %d's blits: %d", c, r);
		char what[64];
		bo_read(&g, dst[c], 0, got, SIZE);
		snprintf(what, sizeof what, "context %d destination pixel", c);
		for (int i = 0; i < W * H; i++)
			check_value(&g, what, i, got[i], model[i]);
		bo_read(&g, dst2[c], 0, got, SIZE);
		snprintf(what, sizeof what, "context %d copy of the destination, pixel", c);
		for (int i = 0; i < W * H; i++)
			check_value(&g, what, i, got[i], model[i]);
		bo_read(&g, src[c], 0, got, SIZE);
		snprintf(what, sizeof what, "context %d source (only read), pixel", c);
		for (int i = 0; i < W * H; i++)
			check_value(&g, what, i, got[i], pattern[i]);
		bo_close(&g, src[c]);
		bo_close(&g, dst[c]);
		bo_close(&g, dst2[c]);
		ctx_destroy(&g, ctx[c]);
	}
	printf("jgvt-blit: %.2f s\n", now_seconds() - t0);
	return gpu_report(&g);
}
