/*
 * The peer that stands for the ceiling of our HTTP library: a minimal
 * libmicrohttpd server started with the same daemon flags and options as
 * common/http.c http_server_start (internal polling thread, epoll, a thread
 * pool of one thread per core), with no router, no auth, no logging and no
 * metrics. Whatever our daemons lose against it is ours to win back.
 *
 *   bare_mhd PORT bytes FILE   answer every request with FILE's bytes,
 *                              read once at start and kept in memory
 *   bare_mhd PORT fd DIR       answer GET /NAME with DIR/NAME sent as an fd
 *                              response (sendfile), opened per request as
 *                              damd does for a stored rendition
 *
 * Binds 127.0.0.1:PORT (0 picks a free port), prints "ready port=N" on
 * stdout and serves until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <microhttpd.h>

struct peer {
	int fd_mode;
	const char *dir;
	struct MHD_Response *fixed;
	char *data;
};

static const char *ctype_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && !strcmp(dot, ".json"))
		return "application/json";
	if (dot && !strcmp(dot, ".webp"))
		return "image/webp";
	if (dot && !strcmp(dot, ".jpg"))
		return "image/jpeg";
	return "application/octet-stream";
}

static enum MHD_Result reply_status(struct MHD_Connection *conn, unsigned int status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);

	MHD_destroy_response(r);
	return ret;
}

/* fd mode: the file is opened for each request and MHD closes it when the
 * response is destroyed, the way an fd reply of common/http.c behaves. */
static enum MHD_Result reply_file(struct peer *p, struct MHD_Connection *conn, const char *url)
{
	char path[4096];
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat st;
	const char *name = strrchr(url, '/');
	int fd;

	name = name ? name + 1 : url;
	if (!*name || strstr(name, ".."))
		return reply_status(conn, MHD_HTTP_NOT_FOUND);
	if (snprintf(path, sizeof(path), "%s/%s", p->dir, name) >= (int)sizeof(path))
		return reply_status(conn, MHD_HTTP_NOT_FOUND);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return reply_status(conn, MHD_HTTP_NOT_FOUND);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return reply_status(conn, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype_of(name));
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_len, void **con_cls)
{
	struct peer *p = cls;

	(void)version;
	(void)upload;
	/* answer on the second call, once MHD has the whole request: queueing on
	 * the first makes it close the connection after the reply */
	if (!*con_cls) {
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_status(conn, MHD_HTTP_METHOD_NOT_ALLOWED);
	if (p->fd_mode)
		return reply_file(p, conn, url);
	return MHD_queue_response(conn, MHD_HTTP_OK, p->fixed);
}

/* bytes mode: the whole file in one malloc'd buffer (p->data, freed at exit
 * after the response); one response object is queued for every request. */
static int load_fixed(struct peer *p, const char *file)
{
	struct stat st;
	char *data;
	size_t off = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "bare_mhd: cannot open '%s': %s\n", file, strerror(errno));
		return -1;
	}
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data) {
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, data + off, (size_t)st.st_size - off);
		if (n <= 0) {
			fprintf(stderr, "bare_mhd: cannot read '%s'\n", file);
			close(fd);
			free(data);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	p->data = data;
	p->fixed = MHD_create_response_from_buffer(off, data, MHD_RESPMEM_PERSISTENT);
	if (!p->fixed)
		return -1;
	MHD_add_response_header(p->fixed, MHD_HTTP_HEADER_CONTENT_TYPE, ctype_of(file));
	return 0;
}

int main(int argc, char **argv)
{
	struct peer p = {0};
	struct sockaddr_in sa = {0};
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t set;
	int sig;

	if (argc != 4 || (strcmp(argv[2], "bytes") && strcmp(argv[2], "fd"))) {
		fprintf(stderr, "usage: bare_mhd PORT bytes FILE | bare_mhd PORT fd DIR\n");
		return 2;
	}
	p.fd_mode = !strcmp(argv[2], "fd");
	p.dir = argv[3];
	if (!p.fd_mode && load_fixed(&p, argv[3]) < 0)
		return 1;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* signals go to sigwait below, not to MHD's threads */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the flags and options of http_server_start, the connection memory
	 * pool included: libmicrohttpd zeroes the pool for every request, so a
	 * larger one here would handicap the peer */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_access, &p,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(cores > 0 ? cores : 2),
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bare_mhd: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("ready port=%u\n", info ? (unsigned int)info->port : (unsigned int)atoi(argv[1]));
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	if (p.fixed)
		MHD_destroy_response(p.fixed);
	free(p.data);
	return 0;
}
