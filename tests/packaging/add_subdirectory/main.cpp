// Needs only the umbrella header and coronet::coronet: no include paths,
// definitions or -std flags of its own.
#include <coronet/coronet.hpp>

coronet::task<int> answer() { co_return 42; }

int main() { return coronet::sync_wait(answer()) == 42 ? 0 : 1; }
