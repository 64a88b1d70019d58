#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	int status;
	const char *name;
} err_table[HUB_ECODES] = {
	[0] = {200, "ok"},
	[-HUB_EINVAL] = {400, "bad_request"},
	[-HUB_EAUTH] = {401, "unauthorized"},
	[-HUB_EFORBIDDEN] = {403, "forbidden"},
	[-HUB_ENOTFOUND] = {404, "not_found"},
	[-HUB_ECONFLICT] = {409, "conflict"},
	[-HUB_EPRECOND] = {412, "precondition_failed"},
	[-HUB_ETOOBIG] = {413, "too_large"},
	[-HUB_EMEDIA] = {415, "unsupported_media_type"},
	[-HUB_ERANGE] = {416, "range_not_satisfiable"},
	[-HUB_EINVALID] = {422, "invalid"},
	[-HUB_EBUSY] = {503, "busy"},
	[-HUB_EIO] = {500, "io_error"},
	[-HUB_ENOMEM] = {500, "out_of_memory"},
	[-HUB_ETIMEOUT] = {504, "timeout"},
	[-HUB_EGONE] = {410, "gone"},
	[-HUB_EMETHOD] = {405, "method_not_allowed"},
	[-HUB_ENOSPACE] = {507, "insufficient_storage"},
};

int hub_err_set(struct hub_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int hub_err_status(int code)
{
	if (code > 0 || code <= -HUB_ECODES || !err_table[-code].status)
		return 500;
	return err_table[-code].status;
}

const char *hub_err_name(int code)
{
	if (code > 0 || code <= -HUB_ECODES || !err_table[-code].name)
		return "error";
	return err_table[-code].name;
}
