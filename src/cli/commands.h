/* The subcommands of `aleph`. Each returns a process exit status: 0 success, 1 failure of the
 * run (e.g. disagreement found), 2 usage error. */
#ifndef ALEPH_COMMANDS_H
#define ALEPH_COMMANDS_H

int command_sim(int argc, char **argv);

/* The node and its tools (src/node). */
int command_keygen(int argc, char **argv);
int command_node(int argc, char **argv);
int command_submit(int argc, char **argv);
int command_load(int argc, char **argv);
int command_local(int argc, char **argv);
int command_analyze(int argc, char **argv);

#endif
