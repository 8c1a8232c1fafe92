// A RESP or line connection inside a transaction, between MULTI and EXEC: the
// session loop's cold path, taken only while connection::in_transaction().
// Commands are checked as the router checks them (name, arity, password) and
// queued, or refused (the transaction is then aborted at EXEC, as Redis
// does); EXEC runs the queue through the ordinary dispatch path, so writing
// and coroutine handlers work inside it as outside.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command/transaction.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/task.hpp"
#include "coronet/protocol/codec.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "server/session.hpp"
#include "server/session_batch.hpp"

namespace coronet::detail {

// Counts a request the transaction path answered.
inline void count_transaction_answer(session& s, bool error) noexcept {
  s.worker.requests.add();
  if (error)
    s.worker.errors.add();
  s.answered = true;
}

// The commands that run at once inside a transaction instead of being
// queued, as Redis's processCommand lists them (EXEC is run here).
inline bool runs_inside_transaction(std::string_view name) noexcept {
  return name == "multi" || name == "discard" || name == "watch" || name == "quit" || name == "reset";
}

// Runs `words` on the dispatch path, its reply appended to `out` in the
// codec's encoding (HELLO's change of version applies from the next reply).
template <request_codec Codec>
task<bool> run_in_session(session& s, Codec& codec, std::span<const std::string_view> words, output_buffer& out) {
  session_call call(s, words, target_of(codec, out));
  const reply& rep = co_await call;
  follow_protover(codec, s);
  if (call.written())
    co_return call.wrote_error();
  codec.encode(rep, out);
  co_return rep.kind() == reply_kind::error;
}

// EXEC: the queued commands in order, their replies one array (RESP) or one
// line of them joined by a space (line protocol, as it prints arrays).
template <request_codec Codec, class Writer>
task<void> run_exec(session& s, Writer& io, Codec& codec) {
  const std::unique_ptr<transaction> queued = s.conn.take_transaction();
  if (queued->dirty) {
    codec.encode(reply::error_line("EXECABORT Transaction discarded because of previous errors."), io.pending());
    count_transaction_answer(s, true);
    co_return;
  }
  count_transaction_answer(s, false);
  constexpr bool line = Codec::protocol == wire_protocol::line;
  std::string joined;
  output_buffer scratch;
  if constexpr (!line) {
    io.pending() += '*';
    io.pending() += std::to_string(queued->counts.size());
    io.pending() += "\r\n";
  }
  std::vector<std::string_view> words;
  std::size_t next = 0;
  for (std::size_t i = 0; i < queued->counts.size(); ++i) {
    words.assign(queued->stored.begin() + static_cast<std::ptrdiff_t>(next),
                 queued->stored.begin() + static_cast<std::ptrdiff_t>(next + queued->counts[i]));
    next += queued->counts[i];
    if constexpr (line) {
      scratch.clear();
      co_await run_in_session(s, codec, words, scratch);
      // One line per reply: its CRLF goes, the replies share one line.
      if (scratch.size() >= 2)
        scratch.resize(scratch.size() - 2);
      if (i > 0)
        joined += ' ';
      joined += scratch;
    } else {
      co_await run_in_session(s, codec, words, io.pending());
    }
  }
  if constexpr (line) {
    joined += "\r\n";
    io.pending() += joined;
  }
}

// One request inside a transaction: queued (`QUEUED`), refused, or run.
template <request_codec Codec, class Writer>
task<void> serve_in_transaction(session& s, Writer& io, Codec& codec, std::span<const std::string_view> words) {
  transaction& t = *s.conn.transaction();
  const command* c = s.routes.find(words[0]);
  const std::size_t argc = words.size() - 1;
  reply refusal;
  if (c == nullptr) {
    refusal = unknown_command_reply(words[0], words.subspan(1));
  } else if (argc < c->args.min || argc > c->args.max) {
    refusal = wrong_arity_reply(c->name);
  } else if (s.conn.needs_auth() && !has_flags(c->flags, command_flags::noauth)) {
    refusal = noauth_reply();
  } else if (c->name == "exec" && argc == 0) {
    co_await run_exec(s, io, codec);
    co_return;
  } else if (c->name == "exec" || runs_inside_transaction(c->name)) {
    count_transaction_answer(s, co_await run_in_session(s, codec, words, io.pending()));
    co_return;
  } else if (!t.dirty && !t.add(words, s.worker.opts.max_query_buffer_bytes)) {
    refusal = reply::error_line("ERR transaction too large: its queued commands would exceed max_query_buffer_bytes");
  } else {
    // Once refused, nothing more is kept: EXEC will abort anyway (Redis's queueMultiCommand).
    codec.encode(reply::text("QUEUED"), io.pending());
    count_transaction_answer(s, false);
    co_return;
  }
  t.dirty = true;
  codec.encode(refusal, io.pending());
  count_transaction_answer(s, true);
}

}  // namespace coronet::detail
