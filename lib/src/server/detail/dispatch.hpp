#pragma once
#include "command/dispatch.hpp"  // moved to the command layer; this forwarder goes after the merge
