/* Error codes and details shared by every module.
 *
 * A function returns 0 on success or a negative HUB_E* code; the details go
 * into an optional struct hub_err that the caller owns (usually on its stack).
 */
#ifndef HUB_ERR_H
#define HUB_ERR_H

enum {
	HUB_OK = 0,
	HUB_EINVAL = -1,      /* malformed request or input: 400 */
	HUB_EAUTH = -2,       /* no or unknown credentials: 401 */
	HUB_EFORBIDDEN = -3,  /* authenticated, not allowed: 403 */
	HUB_ENOTFOUND = -4,   /* 404 */
	HUB_ECONFLICT = -5,   /* 409 */
	HUB_EPRECOND = -6,    /* If-Match failed: 412 */
	HUB_ETOOBIG = -7,     /* body or input over its limit: 413 */
	HUB_EMEDIA = -8,      /* unsupported media type: 415 */
	HUB_ERANGE = -9,      /* unsatisfiable range: 416 */
	HUB_EINVALID = -10,   /* well-formed but fails validation: 422 */
	HUB_EBUSY = -11,      /* overloaded, retry later: 503 */
	HUB_EIO = -12,        /* storage or system failure: 500 */
	HUB_ENOMEM = -13,     /* 500 */
	HUB_ETIMEOUT = -14,   /* work took too long: 504 */
	HUB_EGONE = -15,      /* deleted: 410 */
	HUB_EMETHOD = -16,    /* 405 */
	HUB_ENOSPACE = -17,   /* the store is full: 507 */
	HUB_ECODES = 18
};

struct hub_err {
	int code;
	char msg[512];
};

/* Records code and a printf-style message in err (which may be NULL) and
 * returns code, so callers can write: return hub_err_set(err, ...). */
int hub_err_set(struct hub_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The HTTP status a code maps to (500 for unknown codes). */
int hub_err_status(int code);

/* A short machine-readable name for a code, e.g. "not_found". */
const char *hub_err_name(int code);

#endif
