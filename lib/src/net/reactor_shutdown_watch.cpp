// What lazy_read needs of Asio 1.22's epoll reactor beyond its interface: a socket
// registered for EPOLLRDHUP, whether the wake-up being performed reported it, and whether
// the socket's next read waits without trying it (docs/architecture.md, "Idle
// connections" and "One receive per request").
#include "coronet/net/detail/lazy_read.hpp"

#if CORONET_DETAIL_REACTOR_READS

#include <sys/epoll.h>

#include <cstdint>

namespace coronet::detail {
namespace {

using reactor = asio::detail::epoll_reactor;
using descriptor_state = reactor::descriptor_state;

// The reactor keeps these members private. The names used in an explicit instantiation
// are not access-checked ([temp.spec.general]), so each one's member pointer is handed
// out by a friend function that the instantiation below defines (once, in this file).
template <class Tag, typename Tag::type Member>
struct member_of {
  friend typename Tag::type member(Tag) noexcept { return Member; }
};

// The reactor's epoll descriptor.
struct epoll_fd_tag {
  using type = int reactor::*;
  friend type member(epoll_fd_tag) noexcept;
};
// The events a socket is registered for.
struct registered_events_tag {
  using type = std::uint32_t descriptor_state::*;
  friend type member(registered_events_tag) noexcept;
};
// The events of the wake-up the reactor performs (kept by the descriptor's scheduler
// operation until the next one).
struct wake_events_tag {
  using type = unsigned int asio::detail::scheduler_operation::*;
  friend type member(wake_events_tag) noexcept;
};

// Per kind of operation: whether the next one tries the descriptor before it waits.
struct try_speculative_tag {
  using type = bool (descriptor_state::*)[reactor::max_ops];
  friend type member(try_speculative_tag) noexcept;
};

template struct member_of<epoll_fd_tag, &reactor::epoll_fd_>;
template struct member_of<try_speculative_tag, &descriptor_state::try_speculative_>;
template struct member_of<registered_events_tag, &descriptor_state::registered_events_>;
template struct member_of<wake_events_tag, &asio::detail::scheduler_operation::task_result_>;

std::uint32_t& registered_events(descriptor_state& d) noexcept { return d.*member(registered_events_tag{}); }

unsigned int wake_events(descriptor_state& d) noexcept {
  // The descriptor state is a scheduler operation through a private base, which only a
  // C-style cast may name.
  auto& as_operation = (asio::detail::scheduler_operation&)d;  // NOLINT(google-readability-casting)
  return as_operation.*member(wake_events_tag{});
}

}  // namespace

void watch_peer_shutdown(reactor& r, reactor::per_descriptor_data d, asio::detail::socket_type fd) noexcept {
  if (d == nullptr)
    return;
  std::uint32_t& events = registered_events(*d);
  if (events == 0 || (events & EPOLLRDHUP) != 0)
    return;  // not in the epoll set (see register_descriptor), or watched already
  epoll_event ev{};
  ev.events = events | EPOLLRDHUP;
  ev.data.ptr = d;
  // The reactor re-registers with `events` (adding EPOLLOUT for a write that waits), so
  // the flag stays. On failure nothing changes, and drained() stays false.
  if (::epoll_ctl(r.*member(epoll_fd_tag{}), EPOLL_CTL_MOD, fd, &ev) == 0)
    events = ev.events;
}

bool next_read_waits(reactor::per_descriptor_data d) noexcept {
  return d != nullptr && !(d->*member(try_speculative_tag{}))[reactor::read_op];
}

bool drained(reactor::per_descriptor_data d) noexcept {
  return d != nullptr && (registered_events(*d) & EPOLLRDHUP) != 0 && (wake_events(*d) & EPOLLRDHUP) == 0;
}

}  // namespace coronet::detail

#endif
