/* The subcommands of `aleph`. Each returns a process exit status: 0 success, 1 failure of the
 * run (e.g. disagreement found), 2 usage error. */
#ifndef ALEPH_COMMANDS_H
#define ALEPH_COMMANDS_H

int command_sim(int argc, char **argv);

#endif
