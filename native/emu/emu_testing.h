// Hooks of the emulated library for the native tests (exported by libculoss_emu.so only; not
// part of the public API).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

#define CULOSS_EMU_TESTING_API __attribute__((visibility("default")))

// Replaces the fault plan (the syntax of CULOSS_EMU_FAULT: "launch:3,malloc:1"; NULL or "":
// none) and restarts every call count at 0.
CULOSS_EMU_TESTING_API void culoss_emu_set_faults(const char* spec);

// How many calls of `kind` (malloc, free, memcpy, memset, launch, sync) the runtime has taken
// since the last culoss_emu_set_faults; a launch counts once it passes the configuration check.
CULOSS_EMU_TESTING_API unsigned long long culoss_emu_calls(const char* kind);

#ifdef __cplusplus
}
#endif
