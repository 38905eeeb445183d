/*
 * jgvt-fence [-r ROUNDS]: explicit fences between engines (execbuf out-fences as sync_files,
 * I915_EXEC_FENCE_OUT / I915_EXEC_FENCE_IN), objects marked EXEC_OBJECT_ASYNC so that only the fences
 * order the work. Each round has its own context and:
 *  1. a chain through every engine, in an order rotated per round: each request waits for the previous
 *     one's fence and stores its value into one shared slot and into a slot of its own; the shared slot
 *     must end with the last engine's value;
 *  2. the render engine stores a block of values, and the copy engine, waiting for that fence, copies
 *     the block with XY_SRC_COPY_BLT: the copy must hold the stored values.
 * Every fence is waited for with poll() and must signal without error (SYNC_IOC_FILE_INFO); once the
 * last fence of a chain signalled, the earlier ones must already have. GEM_WAIT then finds every object
 * idle. Exit 0 only when every value is right.
 */
#include "gpu.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 1024 /* values: a 256 x 4 surface of 32-bpp pixels */

static int signalled_now(int fence)
{
	struct pollfd p = { .fd = fence, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

int main(int argc, char **argv)
{
	int rounds = 8, opt;
	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt == 'r') {
			rounds = atoi(optarg);
		} else {
			fprintf(stderr, "usage: jgvt-fence [-r ROUNDS]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 256) {
		fprintf(stderr, "jgvt-fence: -r must be 1..256\n");
		return 2;
	}
	struct gpu g;
	gpu_open(&g, "jgvt-fence");
	struct engine *all[MAX_ENGINES], *rcs[1], *bcs[1];
	int n = gpu_engines_of(&g, -1, all, MAX_ENGINES);
	if (gpu_engines_of(&g, I915_ENGINE_CLASS_RENDER, rcs, 1) != 1 || gpu_engines_of(&g, I915_ENGINE_CLASS_COPY, bcs, 1) != 1)
		gpu_fail(&g, "needs a render and a copy engine");
	printf("jgvt-fence: %d rounds: a fence chain through %d engines, render stores -> copy-engine blit\n", rounds, n);
	double t0 = now_seconds();
	int slots = 1 + n;
	uint32_t *ctx = calloc(rounds, 4), *shared = calloc(rounds, 4), *block = calloc(rounds, 4), *copy = calloc(rounds, 4);
	int *chain = calloc((size_t)rounds * n, sizeof(int)), *store_fence = calloc(rounds, sizeof(int)),
	    *copy_fence = calloc(rounds, sizeof(int));
	uint32_t poison[BLOCK];
	for (int i = 0; i < BLOCK; i++)
		poison[i] = POISON;
	for (int r = 0; r < rounds; r++) {
		ctx[r] = ctx_create(&g);
		shared[r] = bo_create(&g, 4096);
		block[r] = bo_create(&g, BLOCK * 4);
		copy[r] = bo_create(&g, BLOCK * 4);
		bo_write(&g, shared[r], 0, poison, 4096);
		bo_write(&g, block[r], 0, poison, BLOCK * 4);
		bo_write(&g, copy[r], 0, poison, BLOCK * 4);
	}
	for (int r = 0; r < rounds; r++) {
		/* 1. the chain: engine (r + j) % n at step j */
		int previous = -1;
		for (int j = 0; j < n; j++) {
			int e = (r + j) % n;
			struct batch b;
			batch_init(&b);
			batch_store(&b, shared[r], 0, value_of(0xF1, r, j));
			batch_store(&b, shared[r], 4u * (1 + e), value_of(0xF2, r, e));
			batch_end(&b);
			struct objects o = { .handle = { shared[r] }, .flags = { EXEC_OBJECT_WRITE | EXEC_OBJECT_ASYNC }, .n = 1 };
			gpu_submit_ok(&g, all[e], ctx[r], &b, &o, previous, &chain[r * n + j]);
			previous = chain[r * n + j];
			batch_free(&b);
		}
		/* 2. render stores a block; the copy engine copies it once that fence signalled */
		struct batch b;
		batch_init(&b);
		for (int i = 0; i < BLOCK; i++)
			batch_store(&b, block[r], 4u * i, value_of(0xF3, r, i));
		batch_end(&b);
		struct objects o = { .handle = { block[r] }, .flags = { EXEC_OBJECT_WRITE | EXEC_OBJECT_ASYNC }, .n = 1 };
		gpu_submit_ok(&g, rcs[0], ctx[r], &b, &o, -1, &store_fence[r]);
		batch_free(&b);
		batch_init(&b);
		batch_emit(&b, CMD_XY_SRC_COPY_BLT);
		batch_emit(&b, BR13_32BPP | ROP_SRCCOPY | 1024);
		batch_emit(&b, 0);
		batch_emit(&b, 4u << 16 | 256u);
		batch_address(&b, copy[r], 0, 1);
		batch_emit(&b, 0);
		batch_emit(&b, 1024);
		batch_address(&b, block[r], 0, 0);
		batch_end(&b);
		struct objects o2 = { .handle = { block[r], copy[r] }, .flags = { EXEC_OBJECT_ASYNC, EXEC_OBJECT_WRITE | EXEC_OBJECT_ASYNC },
				      .n = 2 };
		gpu_submit_ok(&g, bcs[0], ctx[r], &b, &o2, store_fence[r], &copy_fence[r]);
		batch_free(&b);
	}
	uint32_t got[BLOCK];
	char what[96];
	for (int r = 0; r < rounds; r++) {
		/* the last fence of the chain first: once it signalled, every earlier one has */
		snprintf(what, sizeof what, "round %d's chain step %d (%s)", r, n - 1, all[(r + n - 1) % n]->name);
		int status = fence_wait(&g, chain[r * n + n - 1], 60000, what);
		check_value(&g, "the chain's last fence status (1: signalled without error)", r, (uint32_t)status, 1);
		for (int j = 0; j < n - 1; j++) {
			snprintf(what, sizeof what, "round %d's chain step %d signalled before the last", r, j);
			check_value(&g, what, r, (uint32_t)signalled_now(chain[r * n + j]), 1);
			status = fence_wait(&g, chain[r * n + j], 0, what);
			check_value(&g, "a chain fence's status (1: signalled without error)", r * n + j, (uint32_t)status, 1);
		}
		snprintf(what, sizeof what, "round %d's copy", r);
		status = fence_wait(&g, copy_fence[r], 60000, what);
		check_value(&g, "the copy's fence status", r, (uint32_t)status, 1);
		check_value(&g, "the stores' fence signalled before the copy's", r, (uint32_t)signalled_now(store_fence[r]), 1);
		status = fence_wait(&g, store_fence[r], 0, "the block's stores");
		check_value(&g, "the stores' fence status", r, (uint32_t)status, 1);
		for (int j = 0; j < n; j++)
			close(chain[r * n + j]);
		close(store_fence[r]);
		close(copy_fence[r]);

		uint32_t handles[3] = { shared[r], block[r], copy[r] };
		for (int i = 0; i < 3; i++) {
			int w = bo_wait(&g, handles[i], 0);
			check_value(&g, "GEM_WAIT finds the object idle once its fences signalled (0)", r * 3 + i, (uint32_t)w, 0);
		}
		bo_read(&g, shared[r], 0, got, 4u * slots);
		snprintf(what, sizeof what, "round %d's shared slot (the last engine of the chain wins)", r);
		check_value(&g, what, r, got[0], value_of(0xF1, r, n - 1));
		for (int e = 0; e < n; e++) {
			snprintf(what, sizeof what, "round %d's slot of %s", r, all[e]->name);
			check_value(&g, what, e, got[1 + e], value_of(0xF2, r, e));
		}
		bo_read(&g, block[r], 0, got, sizeof got);
		snprintf(what, sizeof what, "round %d's block stored on %s", r, rcs[0]->name);
		for (int i = 0; i < BLOCK; i++)
			check_value(&g, what, i, got[i], value_of(0xF3, r, i));
		bo_read(&g, copy[r], 0, got, sizeof got);
		snprintf(what, sizeof what, "round %d's block copied by %s after the fence", r, bcs[0]->name);
		for (int i = 0; i < BLOCK; i++)
			check_value(&g, what, i, got[i], value_of(0xF3, r, i));
		bo_close(&g, shared[r]);
		bo_close(&g, block[r]);
		bo_close(&g, copy[r]);
		ctx_destroy(&g, ctx[r]);
	}
	printf("jgvt-fence: %.2f s\n", now_seconds() - t0);
	return gpu_report(&g);
}
