/* The sandboxed renderer: see sandbox.h. The parent side spawns and
 * watches; the child side sets its own limits before libvips starts, then
 * reads the source into memory (so loaders such as SVG's have no base
 * directory to fetch other files from) and answers on stdout. */
#include "fmacros.h"
#include "sandbox.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "rendition.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *helper; /* none: untrusted formats are not read at all */

void sandbox_set_helper(const char *path) { helper = path; }

void sandbox_limits_default(struct sandbox_limits *l)
{
	l->mem_bytes = (uint64_t)1 << 30;
	l->cpu_s = 10;
	l->timeout_ms = 20000;
	l->max_output = (size_t)256 << 20;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spawns the child with args after the limits, collects its output. */
static int run(const char *const *args, int nargs, const struct sandbox_limits *lim,
	       json_t **header, struct buf *payload, struct hub_err *err)
{
	char mem[32], cpu[32], chunk[65536];
	const char *argv[24];
	int pfd[2] = {-1, -1}, rc = 0, status = 0, argc = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct buf out = BUF_INIT;
	sigset_t none, def;
	int64_t deadline;
	bool killed = false, eof = false;
	pid_t pid = -1;
	char *nl;

	*header = NULL;
	if (!helper)
		return hub_err_set(err, HUB_EMEDIA, "this format is read only by the sandboxed "
				   "renderer, which this process does not have");
	if (nargs > 18)
		return hub_err_set(err, HUB_EINVAL, "too many sandbox arguments");
	snprintf(mem, sizeof(mem), "%" PRIu64, lim->mem_bytes);
	snprintf(cpu, sizeof(cpu), "%d", lim->cpu_s);
	argv[argc++] = helper;
	argv[argc++] = SANDBOX_FLAG;
	argv[argc++] = mem;
	argv[argc++] = cpu;
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	buf_init(&out, lim->max_output + 4096);

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return hub_err_set(err, HUB_EIO, "cannot create a pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* stdout is the pipe; nothing else of the daemon's reaches the child */
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, helper, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[1]);
	pfd[1] = -1;
	if (rc) {
		pid = -1;
		rc = hub_err_set(err, HUB_EIO, "cannot start the sandboxed renderer: %s",
				 strerror(rc));
		goto out;
	}

	deadline = mono_ms() + lim->timeout_ms;
	while (!eof) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0) {
			killed = true;
			break;
		}
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hub_err_set(err, HUB_EIO, "poll: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			break;
		}
		if (buf_add(&out, chunk, (size_t)n) < 0) {
			killed = true;
			rc = hub_err_set(err, HUB_EINVALID,
					 "the sandboxed renderer wrote more than %zu bytes",
					 lim->max_output);
			break;
		}
	}
	if (killed)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (rc)
		goto out;
	if (killed) {
		rc = hub_err_set(err, HUB_ETIMEOUT,
				 "the sandboxed renderer took longer than %d ms and was stopped",
				 lim->timeout_ms);
		goto out;
	}
	nl = out.data ? memchr(out.data, '\n', out.len) : NULL;
	if (!nl) {
		if (WIFSIGNALED(status))
			rc = hub_err_set(err, HUB_EINVALID,
					 "the sandboxed renderer was stopped by signal %d (a "
					 "resource limit or a crash in the decoder)",
					 WTERMSIG(status));
		else
			rc = hub_err_set(err, HUB_EINVALID,
					 "the sandboxed renderer gave no answer (exit %d)",
					 WEXITSTATUS(status));
		goto out;
	}
	*header = json_parse(out.data, (size_t)(nl - out.data), err);
	if (!*header || !json_is_object(*header)) {
		json_decref(*header);
		*header = NULL;
		rc = hub_err_set(err, HUB_EIO, "the sandboxed renderer answered garbage");
		goto out;
	}
	if (json_get_str(*header, "error")) {
		json_int_t code = json_integer_value(json_object_get(*header, "code"));

		if (code >= 0 || code <= -HUB_ECODES)
			code = HUB_EINVALID;
		rc = hub_err_set(err, (int)code, "%s", json_get_str(*header, "error"));
		json_decref(*header);
		*header = NULL;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		rc = hub_err_set(err, HUB_EINVALID, "the sandboxed renderer failed");
		json_decref(*header);
		*header = NULL;
		goto out;
	}
	if (payload) {
		size_t skip = (size_t)(nl - out.data) + 1;

		rc = buf_add(payload, out.data + skip, out.len - skip);
		if (rc < 0) {
			hub_err_set(err, rc, "the rendition is too big");
			json_decref(*header);
			*header = NULL;
		}
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	buf_release(&out);
	return rc;
}

int sandbox_probe(const char *mime, const char *path, const struct sandbox_limits *lim,
		  json_t **header, struct hub_err *err)
{
	const char *args[] = {"probe", mime, path};

	return run(args, 3, lim, header, NULL, err);
}

int sandbox_render(const char *mime, const char *path, const char *spec, uint64_t max_pixels,
		   int max_frames, int render_timeout_ms, const struct sandbox_limits *lim,
		   json_t **header, struct buf *payload, struct hub_err *err)
{
	char pix[32], frames[32], tmo[32];
	const char *args[] = {"render", mime, path, spec, pix, frames, tmo};

	snprintf(pix, sizeof(pix), "%" PRIu64, max_pixels);
	snprintf(frames, sizeof(frames), "%d", max_frames);
	snprintf(tmo, sizeof(tmo), "%d", render_timeout_ms);
	return run(args, 7, lim, header, payload, err);
}

/* ---- the child ---- */

static int child_answer_err(const struct hub_err *e)
{
	json_t *j = json_pack("{s:s, s:i}", "error", e->msg, "code", e->code);
	char *s = j ? json_dump_compact(j, NULL) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
	fflush(stdout);
	return 0;
}

static int read_all(const char *path, uint64_t cap, char **data, size_t *len,
		    struct hub_err *err)
{
	struct stat st;
	size_t got = 0;
	char *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return hub_err_set(err, HUB_EIO, "cannot read the source");
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return hub_err_set(err, HUB_EINVALID, "the source is too big to render");
	}
	p = malloc(st.st_size ? st.st_size : 1);
	while (p && got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!p || got != (size_t)st.st_size) {
		free(p);
		return hub_err_set(err, HUB_EIO, "cannot read the source");
	}
	*data = p;
	*len = got;
	return 0;
}

static int child_run(int argc, char **argv)
{
	struct hub_err e = {0};
	struct rlimit rl;
	uint64_t mem;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (argc < 7 || strcmp(argv[1], SANDBOX_FLAG))
		return 2;
	mem = strtoull(argv[2], NULL, 10);
	rl.rlim_cur = rl.rlim_max = (rlim_t)strtol(argv[3], NULL, 10);
	setrlimit(RLIMIT_CPU, &rl);
#if !defined(__SANITIZE_ADDRESS__)
	/* the sanitizer's shadow memory needs far more address space */
	rl.rlim_cur = rl.rlim_max = mem;
	setrlimit(RLIMIT_AS, &rl);
#endif
	rl.rlim_cur = rl.rlim_max = (rlim_t)64 << 20; /* decoders' temporary files */
	setrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

	if (rend_kind_of(argv[5]) != REND_KIND_SANDBOX) {
		hub_err_set(&e, HUB_EMEDIA, "'%s' is not rendered in the sandbox", argv[5]);
		return child_answer_err(&e);
	}
	if (rend_engine_init(argv[5], &e) < 0)
		return child_answer_err(&e);
	if (read_all(argv[6], mem / 4, &data, &len, &e) < 0)
		return child_answer_err(&e);

	if (!strcmp(argv[4], "probe")) {
		struct rend_info info;

		rc = rend_header(NULL, data, len, &info, &e);
		free(data);
		if (rc < 0)
			return child_answer_err(&e);
		printf("{\"width\":%d,\"height\":%d,\"pages\":%d,\"orientation\":%d,"
		       "\"has_icc\":%s,\"has_alpha\":%s}\n",
		       info.width, info.height, info.pages, info.orientation,
		       info.has_icc ? "true" : "false", info.has_alpha ? "true" : "false");
		fflush(stdout);
		return 0;
	}
	if (!strcmp(argv[4], "render") && argc >= 11) {
		struct rend_spec spec;
		struct rend_limits lim;
		struct rend_out out;

		if (rend_spec_parse(&spec, argv[7], &e) < 0) {
			free(data);
			return child_answer_err(&e);
		}
		lim.max_pixels = strtoull(argv[8], NULL, 10);
		lim.max_frames = (int)strtol(argv[9], NULL, 10);
		lim.timeout_ms = (int)strtol(argv[10], NULL, 10);
		rc = rend_render(NULL, data, len, &spec, &lim, &out, &e);
		free(data);
		if (rc < 0)
			return child_answer_err(&e);
		printf("{\"width\":%d,\"height\":%d,\"mime\":\"%s\"}\n", out.width, out.height,
		       out.mime);
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
		rend_out_release(&out);
		return 0;
	}
	free(data);
	hub_err_set(&e, HUB_EINVAL, "unknown sandbox request '%s'", argv[4]);
	return child_answer_err(&e);
}

int sandbox_child_main(int argc, char **argv)
{
	int rc = child_run(argc, argv);

	/* _exit: the answer is written; exit-time work (library destructors, a
	 * sanitizer's leak report) would only delay or garble it */
	fflush(stdout);
	_exit(rc);
}
