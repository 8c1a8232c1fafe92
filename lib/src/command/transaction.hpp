// The commands a connection queues between MULTI and EXEC.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coronet::detail {

struct transaction {
  // What one queued word costs against the limit beyond its bytes: about what
  // keeping it costs (a string and its slot).
  static constexpr std::size_t word_overhead = 32;

  // Queues a copy of `words` unless the queue would then hold more than
  // `limit` bytes (each word's length plus word_overhead); false then, and
  // nothing is queued. Throws std::bad_alloc only.
  bool add(std::span<const std::string_view> words, std::size_t limit) {
    std::size_t cost = 0;
    for (std::string_view w : words)
      cost += w.size() + word_overhead;
    if (cost > limit || bytes > limit - cost)
      return false;
    for (std::string_view w : words)
      stored.emplace_back(w);
    counts.push_back(words.size());
    bytes += cost;
    return true;
  }

  // The commands queued, in order; each is `counts[i]` consecutive words of `stored`.
  std::vector<std::string> stored;
  std::vector<std::size_t> counts;
  // Their cost, as add() counts it.
  std::size_t bytes = 0;
  // A command was refused while queuing: EXEC answers EXECABORT, as Redis does.
  bool dirty = false;
};

}  // namespace coronet::detail
