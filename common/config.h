/* Settings from command-line flags with environment twins: a flag wins over
 * its variable, the variable over the default. */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stdbool.h>

/* The value of "--name VALUE" or "--name=VALUE" in argv, else getenv(env),
 * else def. Borrowed from argv or the environment. */
const char *config_str(int argc, char **argv, const char *flag, const char *env,
		       const char *def);
long config_long(int argc, char **argv, const char *flag, const char *env, long def);
/* 1 for true, yes, 1 and 0 for false, no, 0 (any case); -1 for anything
 * else, which callers refuse: a misspelt "dry_run=ture" must not mean
 * false. */
int config_parse_bool(const char *s);
/* True if "--name" is present or env is set to 1, true or yes. */
bool config_bool(int argc, char **argv, const char *flag, const char *env);

#endif
