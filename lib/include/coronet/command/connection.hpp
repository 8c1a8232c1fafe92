// What a command handler may know about, and do to, the connection it serves.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "coronet/protocol/wire_protocol.hpp"
#include "coronet/net/socket.hpp"

namespace coronet {

class server;
class auth_throttle;
namespace detail {
class pubsub_client;
struct transaction;
}  // namespace detail

/// The connection a request arrived on, as a handler sees it (`request::conn`).
/// Valid for the duration of the handler; used only on the connection's thread.
/// A server's session owns it: it lives as long as the connection, and keeps
/// the user state and close hooks below from one request to the next.
///
/// A server's session fills in `peer`, `local`, `fd`, `protocol`, `owner`, `listener`,
/// `id`, `created`, `password`, `authenticated` and `throttle`; the built-in Redis
/// commands (HELLO, CLIENT, AUTH, RESET) change `protover`, `authenticated`,
/// `auth_failures` and, through their setters, `name()`, `lib_name()` and
/// `lib_version()`. Outside a server (a test calling `router::dispatch`) the
/// defaults below stand.
class connection {
public:
  /// The peer's address.
  tcp::endpoint peer;
  /// The local address the peer connected to (Redis's `laddr`); default-
  /// constructed when unknown.
  tcp::endpoint local;
  /// The socket's descriptor (Redis's `fd`); -1 when unknown.
  int fd = -1;
  /// The protocol in use.
  wire_protocol protocol = wire_protocol::resp;
  /// True once the peer may run every command: set by `AUTH` or `HELLO ...
  /// AUTH` with the right password, and by the session at the start when the
  /// server has no password. `RESET` clears it when a password is set.
  /// While false and `password` is set, commands without the `noauth` flag
  /// answer `NOAUTH Authentication required.`
  bool authenticated = false;

private:
  // Declared here, not with the other private members: they share the padding after
  // `authenticated`.
  bool close_after_reply_ = false;
  bool drop_reply_ = false;

public:
  /// The server that accepted the connection; null outside a server. Only
  /// handlers (and the built-in commands) look through it: routing and
  /// authentication need nothing but this connection.
  const server* owner = nullptr;
  /// Which of the server's listeners accepted it (`server::listener(i)`; 0 is
  /// `host:port`); 0 outside a server.
  std::size_t listener = 0;

  /// Unique among the connections of one server, from 1 up, in accept order
  /// (`CLIENT ID`); 0 outside a server.
  std::uint64_t id = 0;
  /// The RESP version the peer chose with `HELLO` (2 or 3). A RESP session
  /// encodes every reply after the current one with it; other protocols
  /// ignore it. `RESET` sets it back to 2.
  int protover = 2;
  /// Failed authentications (`AUTH`, `HELLO ... AUTH`) on this connection so
  /// far; `RESET` keeps it.
  unsigned auth_failures = 0;
  /// The password that `AUTH` and `HELLO ... AUTH` must present (a view of
  /// the server's `server_options::password`, which outlives the
  /// connection); empty when none is asked for, as outside a server.
  std::string_view password;
  /// When the connection was accepted (for `CLIENT INFO`'s `age`); the
  /// epoch of steady_clock when unknown.
  std::chrono::steady_clock::time_point created{};
  /// The server's limits on failed authentications (per connection and per
  /// source address: `server_options::auth_throttle`), shared by its workers;
  /// null outside a server, where nothing is limited.
  auth_throttle* throttle = nullptr;

  /// The name set by `CLIENT SETNAME` or `HELLO ... SETNAME`; empty for none.
  /// Valid until the name is set again. Never throws.
  std::string_view name() const noexcept { return text_of(&extras::name); }
  /// Sets the name (empty: none). Throws `std::bad_alloc` only (the name is
  /// unchanged then).
  void set_name(std::string_view n) { set_text(&extras::name, n); }
  /// The client library's name, from `CLIENT SETINFO LIB-NAME`; empty for none.
  /// Valid until it is set again. Never throws.
  std::string_view lib_name() const noexcept { return text_of(&extras::lib_name); }
  /// Sets the client library's name (empty: none). Throws `std::bad_alloc` only.
  void set_lib_name(std::string_view n) { set_text(&extras::lib_name, n); }
  /// The client library's version, from `CLIENT SETINFO LIB-VER`; empty for none.
  /// Valid until it is set again. Never throws.
  std::string_view lib_version() const noexcept { return text_of(&extras::lib_version); }
  /// Sets the client library's version (empty: none). Throws `std::bad_alloc` only.
  void set_lib_version(std::string_view v) { set_text(&extras::lib_version, v); }

  /// True while a command without the `noauth` flag may not run: a password
  /// is asked for and the peer has not presented it.
  bool needs_auth() const noexcept { return !authenticated && !password.empty(); }

  /// Asks for the connection to be closed once the current reply is sent.
  void close_after_reply() noexcept { close_after_reply_ = true; }
  /// True once `close_after_reply()` was called.
  bool closing() const noexcept { return close_after_reply_; }

  /// Asks for the connection to be closed without sending the current reply (the
  /// replies before it still go out), as the server does to HTTP sent to a command port.
  void close_without_reply() noexcept {
    close_after_reply_ = true;
    drop_reply_ = true;
  }
  /// True once `close_without_reply()` was called.
  bool dropping_reply() const noexcept { return drop_reply_; }

  /// Channels and patterns the connection is subscribed to (`SUBSCRIBE`,
  /// `PSUBSCRIBE`), kept by the server's RESP sessions; 0 elsewhere. While
  /// it is not 0 and `protover` is 2, only `SUBSCRIBE`, `UNSUBSCRIBE`,
  /// `PSUBSCRIBE`, `PUNSUBSCRIBE`, `PING`, `QUIT` and `RESET` run, as in Redis.
  std::size_t subscriptions = 0;
  /// The connection's Pub/Sub state (internal, for the built-in Pub/Sub
  /// commands): made by `pubsub_state()` on a server's RESP connections
  /// at their first `SUBSCRIBE`, `PSUBSCRIBE`, `UNSUBSCRIBE` or
  /// `PUNSUBSCRIBE`; null before and elsewhere.
  detail::pubsub_client* pubsub = nullptr;
  /// Where a server's RESP session makes `pubsub` on first use (internal):
  /// `make_pubsub(make_pubsub_context)`; null outside one. Throws
  /// `std::bad_alloc`.
  detail::pubsub_client* (*make_pubsub)(void* context) = nullptr;
  /// See `make_pubsub` (internal).
  void* make_pubsub_context = nullptr;
  /// `pubsub`, made first where the session can (internal); null outside a
  /// server's RESP connections. Throws `std::bad_alloc`.
  detail::pubsub_client* pubsub_state() {
    if (pubsub == nullptr && make_pubsub != nullptr)
      pubsub = make_pubsub(make_pubsub_context);
    return pubsub;
  }
  /// An empty connection, as outside a server.
  connection();
  /// Not copyable: its state and close hooks belong to one connection.
  connection(const connection&) = delete;
  /// Not copyable.
  connection& operator=(const connection&) = delete;
  /// Runs the close hooks not run yet (`run_close_hooks`), then destroys the
  /// user state.
  ~connection();

  /// The user state of type `T` this connection holds, or null if it holds
  /// none (see `state`). Threading: the connection's thread only, as all of
  /// `connection`. Never throws.
  template <class T>
  T* find_state() noexcept {
    if (!extras_)
      return nullptr;
    for (const user_state& s : extras_->states)
      if (s.type == std::type_index(typeid(T)))
        return static_cast<T*>(s.value.get());
    return nullptr;
  }
  /// As above, read-only.
  template <class T>
  const T* find_state() const noexcept {
    return const_cast<connection*>(this)->find_state<T>();
  }
  /// The user state of type `T` this connection holds, default-constructed
  /// the first time: one value per type, kept across requests (and across
  /// `RESET`) until the connection ends, then destroyed after its close
  /// hooks ran. Use a type of your own (a struct) as the key. Throws what
  /// `T`'s constructor throws, or `std::bad_alloc`; nothing is added then.
  template <class T>
  T& state() {
    if (T* found = find_state<T>())
      return *found;
    return set_state<T>();
  }
  /// Replaces the user state of type `T` with one made from `args`, and
  /// returns it. Throws as `T`'s constructor, or `std::bad_alloc`, leaving
  /// the old value in place.
  template <class T, class... Args>
  T& set_state(Args&&... args) {
    std::shared_ptr<void> made = std::make_shared<T>(std::forward<Args>(args)...);
    T* value = static_cast<T*>(made.get());
    std::vector<user_state>& states = more().states;
    for (user_state& s : states)
      if (s.type == std::type_index(typeid(T))) {
        s.value = std::move(made);
        return *value;
      }
    states.push_back(user_state{std::type_index(typeid(T)), std::move(made)});
    return *value;
  }
  /// Destroys the user state of type `T`, if there is one. Throws only what
  /// `T`'s destructor throws.
  template <class T>
  void erase_state() {
    if (!extras_)
      return;
    std::vector<user_state>& states = extras_->states;
    for (auto it = states.begin(); it != states.end(); ++it)
      if (it->type == std::type_index(typeid(T))) {
        states.erase(it);
        return;
      }
  }

  /// Adds `hook`, to run once when the connection ends, whatever ends it
  /// (the peer closing, an error, a timeout, `QUIT`, the server's drain or
  /// stop): hooks run in the order they were added, on the connection's
  /// thread, before the user state is destroyed, with this connection (still
  /// valid; its reply can no longer be sent). An exception from a hook is
  /// logged at `log_level::error` and the next hooks still run. A hook added
  /// while the hooks run also runs. Throws `std::bad_alloc` only.
  void on_close(std::function<void(connection&)> hook) { more().close_hooks.push_back(std::move(hook)); }
  /// Runs, in order, the close hooks added and not run yet; the server's
  /// session calls it as the connection ends (the destructor does too). Never
  /// throws.
  void run_close_hooks() noexcept;

  /// True between `MULTI` and the `EXEC`, `DISCARD` or `RESET` that ends the
  /// transaction: meanwhile a RESP or line session queues the commands that
  /// arrive instead of running them (see docs/guide.md, "Transactions").
  bool in_transaction() const noexcept { return transaction_ != nullptr; }
  /// Starts a transaction (what `MULTI` does); nothing if one is open.
  /// Throws `std::bad_alloc` only.
  void begin_transaction();
  /// Ends the open transaction, dropping the commands queued (what `DISCARD`
  /// and `RESET` do); nothing if none is open. Never throws.
  void discard_transaction() noexcept;
  /// For the server's sessions: the open transaction (null if none).
  detail::transaction* transaction() const noexcept { return transaction_.get(); }
  /// For the server's sessions: ends the open transaction and hands it over.
  std::unique_ptr<detail::transaction> take_transaction() noexcept;

private:
  // One user state value and the type it is kept under.
  struct user_state {
    std::type_index type;
    std::shared_ptr<void> value;
  };

  // What few connections use, made at the first use: an idle connection holds a pointer.
  struct extras {
    std::vector<user_state> states;
    std::vector<std::function<void(connection&)>> close_hooks;
    std::string name;
    std::string lib_name;
    std::string lib_version;
  };
  // extras_, made if it is not yet. Throws std::bad_alloc.
  extras& more();
  // One of the extras' texts; empty when there are no extras.
  std::string_view text_of(std::string extras::*field) const noexcept {
    return extras_ ? std::string_view((*extras_).*field) : std::string_view();
  }
  // Sets one of the extras' texts; an empty text makes no extras. Throws std::bad_alloc.
  void set_text(std::string extras::*field, std::string_view text);

  std::unique_ptr<extras> extras_;
  // Not in extras_: the session tests it for every request.
  std::unique_ptr<detail::transaction> transaction_;
};

}  // namespace coronet
