// FRT_CHECK: for broken internal invariants only (bugs), never for bad input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FRT_CHECK(cond)                                                              \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "FusionRT internal error: %s:%d: check failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                                 \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
