/* `aleph`: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "aleph/aleph.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"sim", command_sim, "simulate a committee on virtual time (seeded, with faults)"},
    {"local", command_local, "run a committee of N node processes on this machine, with load"},
    {"keygen", command_keygen, "deal keys: write a committee file and member key files"},
    {"node", command_node, "run one member of a committee (TCP, client port, output, logs)"},
    {"submit", command_submit, "send transactions to a member's client port"},
    {"load", command_load, "open-loop load generator for members' client ports"},
    {"analyze", command_analyze, "summary, CSV files and plots of a finished run from its logs"},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: aleph COMMAND [OPTIONS]\n\n"
                "Aleph: leaderless asynchronous Byzantine fault tolerant atomic broadcast.\n\n"
                "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n`aleph COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("aleph 0.1.0\n");
        return 0;
    }
    if (aleph_init() != 0) {
        fprintf(stderr, "aleph: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "aleph: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
