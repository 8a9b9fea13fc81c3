// locus-sim: the simulator without the rest of the CLI (same flags as `locus simulate`).
#include <string>
#include <vector>

#include "sim/simulate_command.hpp"

int main(int argc, char** argv) {
  return locus::sim::runSimulate(std::vector<std::string>(argv + 1, argv + argc));
}
