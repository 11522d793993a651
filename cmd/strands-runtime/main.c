/* strands-runtime: the AgentCore runtime binary. Everything it does lives
 * in the library (strands_runtime_main), so user binaries that register
 * their own model providers, session stores or tool sources get the same
 * behaviour.                                                           */
#include "strands/runtime.h"

int main(int argc, char **argv)
{
    return strands_runtime_main(argc, argv);
}
