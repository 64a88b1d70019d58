#include "config.h"

#include <stdlib.h>
#include <strings.h>
#include <string.h>

static const char *flag_value(int argc, char **argv, const char *flag)
{
	size_t n = strlen(flag);

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], flag, n))
			continue;
		if (argv[i][n] == '=')
			return argv[i] + n + 1;
		if (argv[i][n] == 0 && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

const char *config_str(int argc, char **argv, const char *flag, const char *env,
		       const char *def)
{
	const char *v = flag_value(argc, argv, flag);

	if (!v && env)
		v = getenv(env);
	return v && *v ? v : def;
}

long config_long(int argc, char **argv, const char *flag, const char *env, long def)
{
	const char *v = config_str(argc, argv, flag, env, NULL);
	char *end;
	long n;

	if (!v)
		return def;
	n = strtol(v, &end, 10);
	return *end ? def : n;
}

int config_parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

bool config_bool(int argc, char **argv, const char *flag, const char *env)
{
	const char *v;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	v = env ? getenv(env) : NULL;
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}
