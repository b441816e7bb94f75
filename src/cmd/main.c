/* main.c: process hardening, then the command line. */
#include "oktacred/cli.h"
#include "oktacred/harden.h"
#include "oktacred/sig.h"

int main(int argc, char **argv)
{
	harden_process();
	sig_install();
	return cli_main(argc, argv);
}
