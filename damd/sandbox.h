/* The sandboxed renderer: formats whose libvips loaders are untrusted (PDF,
 * SVG, JPEG XL, JPEG 2000, BMP through ImageMagick) are read only in a child
 * process: damd itself started again with SANDBOX_FLAG, under rlimits on
 * address space, CPU time and file size, with no new privileges, and killed
 * when it runs past its wall-clock deadline. The daemon never loads them.
 *
 * The child writes one JSON line to stdout ({"error":…,"code":…} when it
 * failed), followed by the encoded image for renders.
 */
#ifndef DAM_SANDBOX_H
#define DAM_SANDBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct hub_err;

#define SANDBOX_FLAG "--render-child"

struct sandbox_limits {
	uint64_t mem_bytes; /* RLIMIT_AS of the child */
	int cpu_s;          /* RLIMIT_CPU of the child */
	int timeout_ms;     /* wall clock, then SIGKILL */
	size_t max_output;  /* bytes the child may write */
};

void sandbox_limits_default(struct sandbox_limits *l);

/* The program started as the child: damd sets "/proc/self/exe", tests their
 * own binary, whose main hands SANDBOX_FLAG to sandbox_child_main. Until it
 * is set, untrusted formats are refused (HUB_EMEDIA). path is borrowed for
 * the life of the process. */
void sandbox_set_helper(const char *path);

/* Runs the child with args (see sandbox_child_main) and returns its JSON
 * line in *header (the caller decrefs) and what followed in payload.
 * A failure the child reports comes back as its code and message;
 * HUB_ETIMEOUT when it was killed at the deadline; HUB_EINVALID when a
 * resource limit stopped it. */
int sandbox_probe(const char *mime, const char *path, const struct sandbox_limits *lim,
		  json_t **header, struct hub_err *err);
int sandbox_render(const char *mime, const char *path, const char *spec, uint64_t max_pixels,
		   int max_frames, int render_timeout_ms, const struct sandbox_limits *lim,
		   json_t **header, struct buf *payload, struct hub_err *err);

/* The child's main: argv is
 *   <exe> --render-child MEM CPU probe MIME PATH
 *   <exe> --render-child MEM CPU render MIME PATH SPEC MAX_PIXELS MAX_FRAMES TIMEOUT_MS
 * Returns the process exit status. */
int sandbox_child_main(int argc, char **argv);

#endif
