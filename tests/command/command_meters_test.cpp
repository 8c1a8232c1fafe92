// coronet::detail::command_meters: which calls are timed (the first of each command, then
// one in sample_every; none with timing off) and where a call beyond the table is counted.
#include "command/command_meters.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace command_command_meters_test {

namespace {

using coronet::detail::command_meters;

// Which of `calls` calls of the command at `index` begin_call times (a non-zero start).
std::vector<bool> timed_calls(command_meters& m, std::size_t index, int calls) {
  std::vector<bool> timed;
  for (int i = 0; i < calls; ++i) {
    const auto [counters, started] = m.begin_call(index);
    REQUIRE(counters != nullptr);
    timed.push_back(started != 0);
    counters->finish(started, false);
  }
  return timed;
}

}  // namespace

TEST_CASE("command_meters time each command's first call, then one in sample_every", "[metrics]") {
  command_meters m;
  m.prepare(2, true, 3);
  CHECK(timed_calls(m, 0, 7) == std::vector<bool>{true, false, false, true, false, false, true});
  // Each command counts down on its own.
  CHECK(timed_calls(m, 1, 2) == std::vector<bool>{true, false});
}

TEST_CASE("command_meters with timing off time no call, and turned on time the next", "[metrics]") {
  command_meters m;
  m.prepare(1, false, 1);
  CHECK(timed_calls(m, 0, 5) == std::vector<bool>(5, false));
  CHECK(m.slot(0).untimed_calls.get() == 5);
  // A server run again with timing on: the countdown restarts.
  m.prepare(1, true, 2);
  CHECK(timed_calls(m, 0, 3) == std::vector<bool>{true, false, true});
  CHECK(m.slot(0).untimed_calls.get() == 6);
}

TEST_CASE("command_meters count a command beyond their table in a spare set", "[metrics]") {
  command_meters m;
  m.prepare(1, true, 1);
  const auto [counters, started] = m.begin_call(5);
  REQUIRE(counters != nullptr);
  CHECK(counters != &m.slot(0));
  counters->finish(started, true);
  CHECK(m.slot(0).errors.get() == 0);
  CHECK(m.slot(0).untimed_calls.get() == 0);
}

}  // namespace command_command_meters_test
