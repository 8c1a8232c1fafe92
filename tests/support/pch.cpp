// Compiles tests/support/pch.hpp into the precompiled header every test program reuses.
