#pragma once
// Invariant checks that stay on in every build type (TIGER_STYLE): a broken invariant stops the
// process at once instead of corrupting state. Never use these for outside input; validate that
// and return a Status instead.

#include <cstdio>
#include <cstdlib>

#define GS_ASSERT(cond)                                                                \
  do {                                                                                 \
    if (!(cond)) [[unlikely]] {                                                        \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
