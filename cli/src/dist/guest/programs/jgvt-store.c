/*
 * jgvt-store [-c CONTEXTS] [-b BATCHES] [-n STORES]: MI_STORE_DWORD_IMM on every engine i915 reports
 * (DRM_I915_QUERY_ENGINE_INFO), through CONTEXTS contexts (GEM_CONTEXT_CREATE), each submitting BATCHES
 * batches of STORES stores per engine, all in flight at once; then every stored value is read back
 * (GEM_PREAD and a write-back CPU mapping, after GEM_WAIT) and compared with what was submitted.
 * Exit 0 only when every value is right.
 */
#include "gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int contexts = 16, batches = 2, stores = 128, opt;
	while ((opt = getopt(argc, argv, "c:b:n:")) != -1) {
		switch (opt) {
		case 'c': contexts = atoi(optarg); break;
		case 'b': batches = atoi(optarg); break;
		case 'n': stores = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: jgvt-store [-c CONTEXTS] [-b BATCHES] [-n STORES]\n");
			return 2;
		}
	}
	if (contexts < 1 || batches < 1 || stores < 1 || stores > 4096) {
		fprintf(stderr, "jgvt-store: -c, -b must be >= 1 and -n 1..4096\n");
		return 2;
	}
	struct gpu g;
	gpu_open(&g, "jgvt-store");
	struct engine *all[MAX_ENGINES];
	int n = gpu_engines_of(&g, -1, all, MAX_ENGINES);
	printf("jgvt-store: engines");
	for (int i = 0; i < n; i++)
		printf(" %s", all[i]->name);
	printf("; %d contexts x %d batches x %d stores per engine\n", contexts, batches, stores);
	double t0 = now_seconds();
	store_round(&g, all, n, contexts, batches, stores, 0x51);
	printf("jgvt-store: %d engines, %.2f s\n", n, now_seconds() - t0);
	return gpu_report(&g);
}
