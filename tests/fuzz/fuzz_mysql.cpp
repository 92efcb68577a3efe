// libFuzzer entry point for lib/proto/mysql_auth's parsers (parse_greeting, parse_login,
// classify_login_reply, parse_auth_switch) and the rewrites they feed; the checks are in
// mysql_harness.hpp. Built and run like every harness: tools/fuzz.sh --only mysql (docs/fuzzing.md).
#include <cstdlib>

#include "tests/fuzz/mysql_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!dpcopy_fuzz::fuzz_one(data, size)) std::abort();
    return 0;
}
