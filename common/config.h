/* Settings from command-line flags with environment twins: a flag wins over
 * its variable, the variable over the default. */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* The value of "--name VALUE" or "--name=VALUE" in argv, else getenv(env),
 * else def. Borrowed from argv or the environment. config_long and
 * config_size end the program with status 2 and a message on stderr for a
 * value that is not a number: they are for reading settings at start. */
const char *config_str(int argc, char **argv, const char *flag, const char *env,
		       const char *def);
long config_long(int argc, char **argv, const char *flag, const char *env, long def);
/* config_long for a value that must lie from min to max (LONG_MAX: no
 * upper bound); one outside ends the program the same way. */
long config_range(int argc, char **argv, const char *flag, const char *env, long def, long min,
		  long max);
/* Ends the program with status 2 and "PROG: FLAG 'v' is not WHAT" on
 * stderr, naming the flag when argv has it, else the variable env: for a
 * setting read at start that is not one the program can use. */
__attribute__((noreturn)) void config_refuse(int argc, char **argv, const char *flag,
					     const char *env, const char *v, const char *what);
/* A byte count with an optional K, M, G or T suffix (powers of 1024). */
unsigned long long config_size(int argc, char **argv, const char *flag, const char *env,
			       unsigned long long def);
/* 1 for true, yes, 1 and 0 for false, no, 0 (any case); -1 for anything
 * else, which callers refuse: a misspelt "dry_run=ture" must not mean
 * false. */
int config_parse_bool(const char *s);
/* True if "--name" is present or env is set to 1, true or yes. */
bool config_bool(int argc, char **argv, const char *flag, const char *env);

/* A flag a program takes: "--name", whether a value follows it ("--name V"
 * or "--name=V"), and its line in --help. */
struct config_flag {
	const char *name;
	bool value;
	const char *help;
};

/* Checks argv against the flags a program takes: lists is a NULL-terminated
 * array of lists, each ending with a NULL name. Returns -1 when every
 * argument is a known flag (with its value); else prints the list of flags
 * to out for --help or -h and returns 0, or the first unknown or incomplete
 * argument to err and returns 2: the exit status to use. A misspelt flag
 * must not be dropped silently, leaving the daemon on a default its
 * operator did not want. */
int config_check(int argc, char **argv, const char *usage,
		 const struct config_flag *const *lists, FILE *out, FILE *err);

#endif
