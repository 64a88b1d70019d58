/* pimctl: the operator's command line for pimd.
 *
 *   pimctl import [--url URL] [--token T] [--format F] [--profile P]
 *                 [--mode upsert|create|update] [--locale L] [--dry-run] FILE
 *   pimctl import --offline --data DIR [--schemas DIR] [...] FILE
 *   pimctl check [same options] FILE            (an import with --dry-run)
 *   pimctl export [--url URL|--offline --data DIR] [--format csv|jsonl]
 *                 [--channel C] [--locale L] [-o FILE]
 *   pimctl token create NAME ROLE [--url URL|--offline --data DIR]
 *
 * Against a running pimd it speaks HTTP with libcurl: the file is streamed
 * as the body of POST /v1/imports, then the job is polled and a progress
 * bar (percent, rows/s, ETA) is drawn on stderr when it is a terminal. With
 * --offline it links pimd's store and writes into a stopped pimd's data
 * directory (refused while pimd holds it), for first loads of large
 * catalogs. The token comes from --token or PIM_TOKEN (offline: none).
 * Exit status: 0 done, 1 the import failed or rows failed, 2 usage.
 */
#include "../pimd/app.h"
#include "alloc.h"
#include "auth.h"
#include "config.h"
#include "../pimd/catalog_int.h"
#include "err.h"
#include "../pimd/exports.h"
#include "../pimd/imports.h"
#include "../pimd/refresh.h"
#include "json.h"
#include "../pimd/store.h"

#include "../importers/imp.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *url, *token, *format, *profile, *mode, *data, *schemas;
	const char *channel, *locale, *out;
	bool offline, dry_run, quiet;
	const char *args[4];
	int nargs;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: pimctl import [--url URL] [--token T] [--format csv|gmc-xml|gmc-tsv|bmecat|jsonl]\n"
		"                     [--profile P] [--mode upsert|create|update] [--locale L]\n"
		"                     [--dry-run] FILE\n"
		"       pimctl import --offline --data DIR [--schemas DIR] [...] FILE\n"
		"       pimctl check [options as import] FILE\n"
		"       pimctl export [--url URL | --offline --data DIR] [--format csv|jsonl]\n"
		"                     [--channel C] [--locale L] [-o FILE]\n"
		"       pimctl token create NAME ROLE [--url URL | --offline --data DIR]\n"
		"The token is --token or PIM_TOKEN; the URL --url or PIM_URL (http://127.0.0.1:8080).\n");
	return 2;
}

static int parse(int argc, char **argv, int from, struct opts *o)
{
	o->url = getenv("PIM_URL") ? getenv("PIM_URL") : "http://127.0.0.1:8080";
	o->token = getenv("PIM_TOKEN");
	o->data = getenv("PIMD_DATA");
	o->schemas = getenv("PIMD_SCHEMAS") ? getenv("PIMD_SCHEMAS") : "schemas";
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (!strcmp(a, "--offline"))
			o->offline = true;
		else if (!strcmp(a, "--dry-run"))
			o->dry_run = true;
		else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
			o->quiet = true;
		else if (!strcmp(a, "--url"))
			slot = &o->url;
		else if (!strcmp(a, "--token"))
			slot = &o->token;
		else if (!strcmp(a, "--format"))
			slot = &o->format;
		else if (!strcmp(a, "--profile"))
			slot = &o->profile;
		else if (!strcmp(a, "--mode"))
			slot = &o->mode;
		else if (!strcmp(a, "--data"))
			slot = &o->data;
		else if (!strcmp(a, "--schemas"))
			slot = &o->schemas;
		else if (!strcmp(a, "--channel"))
			slot = &o->channel;
		else if (!strcmp(a, "--locale"))
			slot = &o->locale;
		else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
			slot = &o->out;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pimctl: unknown option '%s'\n", a);
			return -1;
		} else if (o->nargs < 4) {
			o->args[o->nargs++] = a;
		} else {
			fprintf(stderr, "pimctl: too many arguments\n");
			return -1;
		}
		if (slot) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pimctl: %s needs a value\n", a);
				return -1;
			}
			*slot = argv[++i];
		}
	}
	if (o->offline && !o->data) {
		fprintf(stderr, "pimctl: --offline needs --data DIR (or PIMD_DATA)\n");
		return -1;
	}
	return 0;
}

/* The format from --format, else from the file's first bytes and name. */
static const char *guess_format(const char *path, const char *given)
{
	char head[4096];
	ssize_t n;
	int fd;
	enum imp_format f = IMP_FORMAT_NONE;
	const char *dot = strrchr(path, '.');

	if (given)
		return given;
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		if (n > 0)
			f = imp_format_sniff(head, (size_t)n);
		close(fd);
	}
	if (f == IMP_CSV && dot && !strcmp(dot, ".tsv"))
		f = IMP_GMC_TSV;
	if (f == IMP_FORMAT_NONE && dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson")))
		f = IMP_JSONL;
	return f == IMP_FORMAT_NONE ? "csv" : imp_format_name(f);
}

/* ---- the report ---- */

static void print_report(const json_t *r)
{
	size_t i;
	json_t *e;
	long total = (long)json_integer_value(json_object_get(r, "errors_total"));
	const char *err = json_string_value(json_object_get(r, "error"));

	printf("%s: %lld rows, %lld created, %lld updated, %lld unchanged, %lld failed",
	       json_string_value(json_object_get(r, "status")),
	       (long long)json_integer_value(json_object_get(r, "rows")),
	       (long long)json_integer_value(json_object_get(r, "created")),
	       (long long)json_integer_value(json_object_get(r, "updated")),
	       (long long)json_integer_value(json_object_get(r, "unchanged")),
	       (long long)json_integer_value(json_object_get(r, "failed")));
	if (json_integer_value(json_object_get(r, "rows_per_second")))
		printf(" (%lld rows/s)", (long long)json_integer_value(json_object_get(r, "rows_per_second")));
	if (json_integer_value(json_object_get(r, "schema_written")))
		printf(", %lld schema documents written",
		       (long long)json_integer_value(json_object_get(r, "schema_written")));
	{
		const json_t *m = json_object_get(r, "models");
		long long mc = json_integer_value(json_object_get(m, "created"));
		long long mu = json_integer_value(json_object_get(m, "updated"));
		long long mn = json_integer_value(json_object_get(m, "unchanged"));

		if (mc || mu || mn)
			printf(", sub-models: %lld kept, %lld changed, %lld unchanged, %lld variants updated",
			       mc, mu, mn, json_integer_value(json_object_get(m, "variants_updated")));
	}
	if (json_is_true(json_object_get(r, "dry_run")))
		printf(" [dry run: nothing written]");
	printf("\n");
	if (err)
		printf("error: %s\n", err);
	json_array_foreach(json_object_get(r, "errors"), i, e) {
		const char *field = json_string_value(json_object_get(e, "field"));

		printf("line %lld%s%s%s: %s (%s)\n", (long long)json_integer_value(json_object_get(e, "line")),
		       field ? ", " : "", field ? field : "", "",
		       json_string_value(json_object_get(e, "message")),
		       json_string_value(json_object_get(e, "code")));
	}
	if (total > (long)json_array_size(json_object_get(r, "errors")))
		printf("… and %ld more problems\n", total - (long)json_array_size(json_object_get(r, "errors")));
}

static void draw_bar(const json_t *r, double elapsed)
{
	double total = (double)json_integer_value(json_object_get(r, "bytes_total"));
	double done = (double)json_integer_value(json_object_get(r, "bytes_done"));
	long rows = (long)json_integer_value(json_object_get(r, "rows"));
	double pct = total > 0 ? done * 100.0 / total : 0;
	double rps = elapsed > 0 ? (double)rows / elapsed : 0;
	double eta = (done > 0 && total > done) ? elapsed * (total - done) / done : 0;
	char bar[31];
	int fill = (int)(pct * 30 / 100);

	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %5.1f%%  %ld rows  %.0f rows/s  ETA %02d:%02d ", bar, pct, rows, rps,
		(int)eta / 60, (int)eta % 60);
	fflush(stderr);
}

/* ---- HTTP ---- */

struct resp {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;
	size_t add = size * n;
	char *nd = realloc(r->data, r->len + add + 1);

	if (!nd)
		return 0;
	memcpy(nd + r->len, p, add);
	r->len += add;
	nd[r->len] = '\0';
	r->data = nd;
	return add;
}

struct upload_progress {
	bool tty;
	struct timespec t0;
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int on_upload(void *cls, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		     curl_off_t ulnow)
{
	struct upload_progress *u = cls;

	(void)dltotal;
	(void)dlnow;
	if (u->tty && ultotal > 0) {
		fprintf(stderr, "\rsending %5.1f%% of %.1f MB ", (double)ulnow * 100 / (double)ultotal,
			(double)ultotal / 1e6);
		fflush(stderr);
	}
	return 0;
}

/* One request; body from fd (upload) or bytes. Returns the HTTP status or
 * -1 with a message printed. */
static long http(const struct opts *o, const char *method, const char *path, FILE *upload,
		 curl_off_t upsize, const char *body, const char *ctype, struct resp *out,
		 FILE *sink, struct upload_progress *up)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[4096], auth[512];
	long status = -1;
	CURLcode rc;

	if (!c)
		return -1;
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (o->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
		h = curl_slist_append(h, auth);
	}
	if (ctype) {
		char ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (upload) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, upload);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, upsize);
		if (up) {
			curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_upload);
			curl_easy_setopt(c, CURLOPT_XFERINFODATA, up);
		}
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (sink) {
		curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fprintf(stderr, "pimctl: %s: %s\n", url, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static void print_problem(long status, const struct resp *r)
{
	json_t *p = r->data ? json_loads(r->data, 0, NULL) : NULL;
	const char *d = json_string_value(json_object_get(p, "detail"));

	fprintf(stderr, "pimctl: pimd answered %ld: %s\n", status, d ? d : (r->data ? r->data : ""));
	json_decref(p);
}

static int report_exit(const json_t *r)
{
	const char *s = json_string_value(json_object_get(r, "status"));

	if (!s || strcmp(s, "done"))
		return 1;
	return json_integer_value(json_object_get(r, "failed")) ? 1 : 0;
}

static int import_online(const struct opts *o, const char *file)
{
	struct upload_progress up = {isatty(2) && !o->quiet, {0, 0}};
	struct resp r = {0};
	char path[2048];
	struct stat st;
	json_t *rep = NULL;
	const char *id;
	long status;
	FILE *f;
	int rc = 1;

	f = fopen(file, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "pimctl: cannot open '%s': %s\n", file, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	snprintf(path, sizeof(path), "/v1/imports?format=%s%s%s&mode=%s%s%s%s",
		 guess_format(file, o->format), o->profile ? "&profile=" : "",
		 o->profile ? o->profile : "", o->mode ? o->mode : "upsert",
		 o->dry_run ? "&dry_run=true" : "", o->locale ? "&locale=" : "",
		 o->locale ? o->locale : "");
	clock_gettime(CLOCK_MONOTONIC, &up.t0);
	status = http(o, "POST", path, f, (curl_off_t)st.st_size, NULL, "application/octet-stream",
		      &r, NULL, &up);
	fclose(f);
	if (status != 202) {
		if (status > 0)
			print_problem(status, &r);
		free(r.data);
		return 1;
	}
	rep = json_loads(r.data, 0, NULL);
	free(r.data);
	id = json_string_value(json_object_get(rep, "id"));
	if (!id) {
		fprintf(stderr, "pimctl: pimd answered no job id\n");
		json_decref(rep);
		return 1;
	}
	snprintf(path, sizeof(path), "/v1/imports/%s", id);
	if (up.tty)
		fprintf(stderr, "\rjob %s queued                              \n", id);
	json_decref(rep);
	rep = NULL;
	for (;;) {
		const char *s;

		memset(&r, 0, sizeof(r));
		status = http(o, "GET", path, NULL, 0, NULL, NULL, &r, NULL, NULL);
		json_decref(rep);
		rep = status == 200 ? json_loads(r.data, 0, NULL) : NULL;
		free(r.data);
		if (!rep) {
			fprintf(stderr, "pimctl: cannot read the job's report (%ld)\n", status);
			return 1;
		}
		s = json_string_value(json_object_get(rep, "status"));
		if (up.tty)
			draw_bar(rep, json_real_value(json_object_get(rep, "seconds")));
		if (s && (!strcmp(s, "done") || !strcmp(s, "failed") || !strcmp(s, "cancelled")))
			break;
		usleep(250000);
	}
	if (up.tty)
		fprintf(stderr, "\n");
	print_report(rep);
	rc = report_exit(rep);
	json_decref(rep);
	return rc;
}

/* ---- offline ---- */

struct offline {
	struct pim_app app;
	int lock_fd;
};

static int offline_open(struct offline *off, const struct opts *o, struct hub_err *err)
{
	int rc;

	memset(off, 0, sizeof(*off));
	off->lock_fd = -1;
	off->app.data_dir = o->data;
	off->app.schemas_dir = o->schemas;
	off->app.damd_url = getenv("PIMD_DAMD_URL") ? getenv("PIMD_DAMD_URL") : "http://127.0.0.1:8081";
	off->app.cache_mb = 16;
	/* pimd's setting (PIMD_REFRESH_CHUNK), for the refresh pimctl finishes */
	off->app.refresh_chunk =
		config_range(0, NULL, "--refresh-chunk", "PIMD_REFRESH_CHUNK", 4096, 1, LONG_MAX);
	off->app.no_starter = config_bool(0, NULL, "--no-starter", "PIMD_NO_STARTER");
	if (mkdir(o->data, 0700) < 0 && errno != EEXIST)
		return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", o->data, strerror(errno));
	rc = pim_imports_lock(o->data, &off->lock_fd, err);
	if (rc < 0)
		return rc;
	rc = pim_store_open(&off->app.store, o->data,
			    config_size(0, NULL, "--map-size", "PIMD_MAP_SIZE", 0), err);
	if (rc == 0)
		rc = pim_catalog_open(&off->app, err);
	return rc;
}

static void offline_close(struct offline *off)
{
	if (off->app.catalog) {
		struct hub_err err = {0};

		/* what schema changes of the import left for pimd's refresher,
		 * done now: nothing else writes meanwhile */
		if (pim_refresher_drain(&off->app, &err) < 0)
			fprintf(stderr, "pimctl: recomputing products after a schema change: %s "
					"(pimd does it at its next start)\n", err.msg);
		pim_catalog_close(&off->app);
	}
	pim_store_close(off->app.store);
	if (off->lock_fd >= 0)
		close(off->lock_fd);
}

static void offline_progress(void *cls, const json_t *report)
{
	struct timespec *t0 = cls;

	draw_bar(report, since(t0));
}

static int import_offline(const struct opts *o, const char *file)
{
	struct offline off;
	struct hub_err err = {0};
	struct timespec t0;
	json_t *rep = json_object();
	bool tty = isatty(2) && !o->quiet;
	int fd, rc;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pimctl: cannot open '%s': %s\n", file, strerror(errno));
		json_decref(rep);
		return 1;
	}
	rc = offline_open(&off, o, &err);
	if (rc < 0) {
		fprintf(stderr, "pimctl: %s\n", err.msg);
		offline_close(&off);
		close(fd);
		json_decref(rep);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = pim_import_file(&off.app, fd, guess_format(file, o->format), o->profile, o->mode,
			     o->locale, o->dry_run, "pimctl", rep, tty ? offline_progress : NULL, &t0, &err);
	close(fd);
	if (tty)
		fprintf(stderr, "\n");
	if (rc < 0 && !json_object_get(rep, "status")) {
		fprintf(stderr, "pimctl: %s\n", err.msg);
		rc = 1;
	} else {
		if (rc < 0)
			json_object_set_new(rep, "error", json_string(err.msg));
		print_report(rep);
		rc = report_exit(rep);
	}
	offline_close(&off);
	json_decref(rep);
	return rc;
}

static int cmd_import(int argc, char **argv, bool check)
{
	struct opts o = {0};

	if (parse(argc, argv, 2, &o) < 0 || o.nargs != 1)
		return usage();
	if (check)
		o.dry_run = true;
	return o.offline ? import_offline(&o, o.args[0]) : import_online(&o, o.args[0]);
}

static int cmd_export(int argc, char **argv)
{
	struct opts o = {0};
	FILE *f = stdout;
	int rc = 0;

	if (parse(argc, argv, 2, &o) < 0 || o.nargs)
		return usage();
	if (!o.format)
		o.format = "csv";
	if (o.out && !(f = fopen(o.out, "wb"))) {
		fprintf(stderr, "pimctl: cannot write '%s': %s\n", o.out, strerror(errno));
		return 1;
	}
	if (o.offline) {
		struct offline off;
		struct hub_err err = {0};

		if (offline_open(&off, &o, &err) < 0 ||
		    pim_export_file(&off.app, o.format, o.channel, o.locale, f, &err) < 0) {
			fprintf(stderr, "pimctl: %s\n", err.msg);
			rc = 1;
		}
		offline_close(&off);
	} else {
		char path[1024];
		char *ch = o.channel ? curl_escape(o.channel, 0) : NULL;
		char *lo = o.locale ? curl_escape(o.locale, 0) : NULL;
		struct resp r = {0};
		long status;

		snprintf(path, sizeof(path), "/v1/exports/products.%s?channel=%s&locale=%s", o.format,
			 ch ? ch : "", lo ? lo : "");
		curl_free(ch);
		curl_free(lo);
		status = http(&o, "GET", path, NULL, 0, NULL, NULL, &r, f, NULL);
		if (status != 200) {
			if (status > 0)
				fprintf(stderr, "pimctl: pimd answered %ld\n", status);
			rc = 1;
		}
		free(r.data);
	}
	if (f != stdout && fclose(f) != 0)
		rc = 1;
	else if (f == stdout)
		fflush(stdout);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	struct opts o = {0};

	if (parse(argc, argv, 2, &o) < 0 || o.nargs != 3 || strcmp(o.args[0], "create"))
		return usage();
	if (auth_role_parse(o.args[2]) == ROLE_NONE) {
		fprintf(stderr, "pimctl: role '%s' is not admin, merchandiser, designer or reader\n",
			o.args[2]);
		return 2;
	}
	if (o.offline) {
		struct auth *a = NULL;
		struct hub_err err = {0};
		char secret[80];

		if (auth_open(&a, o.data, getenv("PIM_ADMIN_TOKEN"), &err) < 0 ||
		    auth_create(a, o.args[1], auth_role_parse(o.args[2]), secret, &err) < 0) {
			fprintf(stderr, "pimctl: %s\n", err.msg);
			auth_close(a);
			return 1;
		}
		auth_close(a);
		printf("%s\n", secret);
		return 0;
	} else {
		json_t *body = json_pack("{s:s,s:s}", "name", o.args[1], "role", o.args[2]), *rep;
		char *s = json_dumps(body, JSON_COMPACT);
		struct resp r = {0};
		long status = http(&o, "POST", "/v1/tokens", NULL, 0, s, "application/json", &r, NULL,
				   NULL);
		int rc = 1;

		free(s);
		json_decref(body);
		if (status == 201 || status == 200) {
			rep = json_loads(r.data, 0, NULL);
			if (json_string_value(json_object_get(rep, "token"))) {
				printf("%s\n", json_string_value(json_object_get(rep, "token")));
				rc = 0;
			}
			json_decref(rep);
		} else if (status > 0) {
			print_problem(status, &r);
		}
		free(r.data);
		return rc;
	}
}

int main(int argc, char **argv)
{
	int rc;

	hub_alloc_tune();
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage();
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(argv[1], "import"))
		rc = cmd_import(argc, argv, false);
	else if (!strcmp(argv[1], "check"))
		rc = cmd_import(argc, argv, true);
	else if (!strcmp(argv[1], "export"))
		rc = cmd_export(argc, argv);
	else if (!strcmp(argv[1], "token"))
		rc = cmd_token(argc, argv);
	else {
		fprintf(stderr, "pimctl: unknown command '%s'\n", argv[1]);
		rc = usage();
	}
	curl_global_cleanup();
	return rc;
}
