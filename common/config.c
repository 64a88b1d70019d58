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

unsigned long long config_size(int argc, char **argv, const char *flag, const char *env,
			       unsigned long long def)
{
	const char *v = config_str(argc, argv, flag, env, NULL);
	char *end;
	unsigned long long n;

	if (!v)
		return def;
	n = strtoull(v, &end, 10);
	switch (*end) {
	case 'k': case 'K': n <<= 10; break;
	case 'm': case 'M': n <<= 20; break;
	case 'g': case 'G': n <<= 30; break;
	case 't': case 'T': n <<= 40; break;
	default: break;
	}
	return n ? n : def;
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

static const struct config_flag *flag_find(const struct config_flag *const *lists,
					   const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (; *lists; lists++)
		for (const struct config_flag *f = *lists; f->name; f++)
			if (strlen(f->name) == n && !strncmp(f->name, arg, n))
				return f;
	return NULL;
}

int config_check(int argc, char **argv, const char *usage,
		 const struct config_flag *const *lists, FILE *out, FILE *err)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct config_flag *f;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fprintf(out, "usage: %s\n\nflags (each also has an environment variable, named in the "
				     "README):\n", usage);
			for (const struct config_flag *const *l = lists; *l; l++)
				for (f = *l; f->name; f++) {
					char name[64];

					snprintf(name, sizeof(name), "%s%s", f->name,
						 f->value ? " V" : "");
					fprintf(out, "  %-26s %s\n", name, f->help);
				}
			return 0;
		}
		f = flag_find(lists, a);
		if (!f) {
			fprintf(err, "%s: unknown %s '%s' (--help lists the flags)\n", prog,
				a[0] == '-' ? "flag" : "argument", a);
			return 2;
		}
		if (strchr(a, '=') && !f->value) {
			fprintf(err, "%s: flag '%s' takes no value\n", prog, f->name);
			return 2;
		}
		if (f->value && !strchr(a, '=') && ++i >= argc) {
			fprintf(err, "%s: flag '%s' needs a value\n", prog, f->name);
			return 2;
		}
	}
	return -1;
}
