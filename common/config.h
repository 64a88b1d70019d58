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
/* True if "--name" is present or env is set to 1, true or yes. */
bool config_bool(int argc, char **argv, const char *flag, const char *env);

#endif
