/* pimctl: the operator's command line for a running pimd. */
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: pimctl import|export|check|token ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help"))
		return usage();
	fprintf(stderr, "pimctl: unknown command '%s'\n", argv[1]);
	return usage();
}
