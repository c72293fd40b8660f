#include "cli/commands.h"
int command_load(int argc, char **argv) { return 2; }
