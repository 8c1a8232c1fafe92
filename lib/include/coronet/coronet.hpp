// Everything coronet offers, in one include.
#pragma once

#include "coronet/log.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/spawn.hpp"
#include "coronet/sync_wait.hpp"
#include "coronet/task.hpp"
#include "coronet/task_group.hpp"
#include "coronet/when_all.hpp"
#include "coronet/yield.hpp"
