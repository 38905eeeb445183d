/*
 * jgvt-hang [-e ENGINE] [-t SECONDS] [-i MS]: hangs an engine on purpose and checks that i915 recovers.
 *
 * In a context of its own, submits on ENGINE (default rcs0) a batch that never ends: MI_BATCH_BUFFER_START
 * back to its own first dword, without an arbitration point, so nothing but a reset stops it. Behind it, on
 * the same engine, an innocent request of another context stores values. Then:
 *  - the hanging request's out-fence must signal within SECONDS (default 120) with an error (i915 reset the
 *    engine and cancelled the guilty request), and GET_RESET_STATS must count it as the guilty context's
 *    active batch;
 *  - the innocent request's fence must signal without error and its values must be in memory;
 *  - new work on every engine, through new contexts, must then run and store every value right.
 * With -i, the engine's heartbeat interval (sysfs heartbeat_interval_ms, by which i915 notices a request
 * that does not move) is MS during the run, and restored after: i915's default (2500 ms) takes about 20 s
 * of guest time to reset an engine on a vGPU, where i915 does not preempt.
 * Exit 0 only when all of that holds.
 */
#include "gpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define INNOCENT_STORES 64

static char heartbeat_path[128];
static char heartbeat_saved[32];

static void write_file(struct gpu *g, const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(value, f) < 0 || fclose(f) != 0)
		gpu_fail(g, "writing %s to %s: %s", value, path, strerror(errno));
}

/* Sets the engine's heartbeat interval (card0's sysfs), keeping the old value for restore_heartbeat. */
static void set_heartbeat(struct gpu *g, const char *engine, const char *ms)
{
	snprintf(heartbeat_path, sizeof heartbeat_path, "/sys/class/drm/card0/engine/%s/heartbeat_interval_ms", engine);
	FILE *f = fopen(heartbeat_path, "r");
	if (!f || !fgets(heartbeat_saved, sizeof heartbeat_saved, f))
		gpu_fail(g, "reading %s: %s", heartbeat_path, strerror(errno));
	fclose(f);
	write_file(g, heartbeat_path, ms);
	printf("jgvt-hang: %s heartbeat interval %s ms (was %s ms)\n", engine, ms, strtok(heartbeat_saved, "\n"));
}

static struct drm_i915_reset_stats reset_stats(struct gpu *g, uint32_t ctx)
{
	struct drm_i915_reset_stats s = { .ctx_id = ctx };
	if (ioctl(g->fd, DRM_IOCTL_I915_GET_RESET_STATS, &s))
		gpu_fail(g, "GET_RESET_STATS of context %u: %s", ctx, strerror(errno));
	return s;
}

int main(int argc, char **argv)
{
	const char *name = "rcs0";
	const char *heartbeat = NULL;
	int seconds = 120, opt;
	while ((opt = getopt(argc, argv, "e:t:i:")) != -1) {
		switch (opt) {
		case 'e': name = optarg; break;
		case 't': seconds = atoi(optarg); break;
		case 'i': heartbeat = optarg; break;
		default:
			fprintf(stderr, "usage: jgvt-hang [-e ENGINE] [-t SECONDS] [-i HEARTBEAT_MS]\n");
			return 2;
		}
	}
	struct gpu g;
	gpu_open(&g, "jgvt-hang");
	struct engine *all[MAX_ENGINES], *victim = NULL;
	int n = gpu_engines_of(&g, -1, all, MAX_ENGINES);
	for (int i = 0; i < n; i++)
		if (strcmp(all[i]->name, name) == 0)
			victim = all[i];
	if (!victim)
		gpu_fail(&g, "no engine %s", name);
	if (heartbeat)
		set_heartbeat(&g, victim->name, heartbeat);

	uint32_t guilty = ctx_create(&g), innocent = ctx_create(&g);
	/* the endless batch: jumps to its own start; submitted from a kept object so the jump can name it */
	struct batch b;
	batch_init(&b);
	batch_emit(&b, CMD_MI_NOOP);
	batch_emit(&b, CMD_MI_BATCH_BUFFER_START);
	uint32_t self_reloc_at = b.n;
	batch_emit(&b, 0);
	batch_emit(&b, 0);
	batch_end(&b); /* never reached */
	/* the relocation's target is the batch object itself, known only once it exists: submit it by hand */
	uint32_t loop = bo_create(&g, 4096);
	bo_write(&g, loop, 0, b.dw, b.n * 4ull);
	struct drm_i915_gem_relocation_entry rel = {
		.target_handle = loop, .offset = self_reloc_at * 4ull, .read_domains = I915_GEM_DOMAIN_COMMAND,
	};
	struct drm_i915_gem_exec_object2 obj = { .handle = loop, .relocation_count = 1, .relocs_ptr = (uintptr_t)&rel };
	struct drm_i915_gem_execbuffer2 eb = {
		.buffers_ptr = (uintptr_t)&obj, .buffer_count = 1, .batch_len = b.n * 4, .flags = victim->ring | I915_EXEC_FENCE_OUT,
	};
	i915_execbuffer2_set_context_id(eb, guilty);
	if (ioctl(g.fd, DRM_IOCTL_I915_GEM_EXECBUFFER2_WR, &eb))
		gpu_fail(&g, "execbuf of the endless batch on %s: %s", victim->name, strerror(errno));
	g.submissions++;
	int hang_fence = (int)(eb.rsvd2 >> 32);
	batch_free(&b);
	double t0 = now_seconds();
	printf("jgvt-hang: an endless batch submitted on %s (context %u); an innocent request queued behind it\n", victim->name,
	       guilty);

	/* an innocent request behind it on the same engine */
	uint32_t target = bo_create(&g, 4096);
	uint32_t poison[1024];
	for (int i = 0; i < 1024; i++)
		poison[i] = POISON;
	bo_write(&g, target, 0, poison, sizeof poison);
	batch_init(&b);
	for (int i = 0; i < INNOCENT_STORES; i++)
		batch_store(&b, target, 4u * i, value_of(0x4A, innocent, i));
	batch_end(&b);
	struct objects o = { .handle = { target }, .flags = { EXEC_OBJECT_WRITE }, .n = 1 };
	int innocent_fence;
	gpu_submit_ok(&g, victim, innocent, &b, &o, -1, &innocent_fence);
	batch_free(&b);

	int status = fence_wait(&g, hang_fence, seconds * 1000, "the endless batch");
	double hung = now_seconds() - t0;
	printf("jgvt-hang: the endless batch's fence signalled after %.1f s with status %d (%s)\n", hung, status,
	       status < 0 ? strerror(-status) : "no error");
	if (status >= 0)
		gpu_fail(&g, "the endless batch's fence signalled without an error (status %d): it did not hang or was not reset",
			 status);
	struct drm_i915_reset_stats guilty_stats = reset_stats(&g, guilty);
	printf("jgvt-hang: reset stats of the hanging context: reset_count %u, batch_active %u, batch_pending %u\n",
	       guilty_stats.reset_count, guilty_stats.batch_active, guilty_stats.batch_pending);
	check_value(&g, "the hanging context's active batches lost to a reset (GET_RESET_STATS batch_active)", 0,
		    guilty_stats.batch_active >= 1, 1);

	status = fence_wait(&g, innocent_fence, seconds * 1000, "the innocent request behind the hang");
	check_value(&g, "the innocent request's fence status (1: signalled without error)", 0, (uint32_t)status, 1);
	struct drm_i915_reset_stats innocent_stats = reset_stats(&g, innocent);
	printf("jgvt-hang: reset stats of the innocent context: batch_active %u, batch_pending %u\n", innocent_stats.batch_active,
	       innocent_stats.batch_pending);
	check_value(&g, "the innocent context's active batches lost to a reset", 0, innocent_stats.batch_active, 0);
	uint32_t got[INNOCENT_STORES];
	bo_read(&g, target, 0, got, sizeof got);
	for (int i = 0; i < INNOCENT_STORES; i++)
		check_value(&g, "the innocent request's stores", i, got[i], value_of(0x4A, innocent, i));
	close(hang_fence);
	close(innocent_fence);
	bo_close(&g, target);
	bo_close(&g, loop);
	ctx_destroy(&g, guilty);
	ctx_destroy(&g, innocent);
	if (heartbeat)
		write_file(&g, heartbeat_path, heartbeat_saved);

	/* the engines after the reset: new contexts, stores on each, every value checked */
	double t1 = now_seconds();
	store_round(&g, all, n, 4, 1, 64, 0x4B);
	printf("jgvt-hang: after the reset, stores on %d engines through 4 new contexts: %.2f s\n", n, now_seconds() - t1);
	return gpu_report(&g);
}
