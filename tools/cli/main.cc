// frugal: the command-line entry point (tools layer). Subcommands are registered in cli_*.cc.
#include <cstdio>

int main(int argc, char** argv) {
  std::fprintf(stderr, "frugal: no subcommands yet\n");
  return 2;
}
