/* main.c: process hardening, then the command line. Built twice (docs/DESIGN.md, "The front
 * and the full binary"): with OKTACRED_FRONT it is the static front's main, which hands
 * every command line it does not serve to the full binary before doing anything else. */
#include "oktacred/cli.h"
#include "oktacred/front.h"
#include "oktacred/harden.h"
#include "oktacred/sig.h"

int main(int argc, char **argv)
{
#ifdef OKTACRED_FRONT
	front_enable(argv, OKTACRED_FULL_PATH);
	if (!front_serves(argc, argv))
		front_handoff("this command");
#else
	front_adopt();
#endif
	harden_process();
	sig_install();
	return cli_main(argc, argv);
}
