// The headers nearly every test file includes, precompiled once per build and
// reused by the folders' unity-built test programs (tests/CMakeLists.txt), so
// Catch2, Asio, OpenSSL and coronet's headers are parsed once, not per program.
// Only headers with no effect beyond declarations belong here (support/counting_new.hpp
// replaces the global operator new and must stay in the tests that count).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include "coronet/coronet.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
