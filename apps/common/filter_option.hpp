// -F/--filter, shared by dpcopy and dpintercept: a libpcap (tcpdump) expression, checked
// by compiling it for Ethernet frames on a dead handle. No DPDK here; the programs compile
// it again to run it (lib/dpdk_io/bpf_filter.hpp).
#pragma once

#include "apps/common/result.hpp"

#include <string>
#include <string_view>

namespace dpcopy::cli {

inline constexpr std::size_t kMaxFilterLength = 4096;

// The expression, or libpcap's message. `empty_hint` follows "empty filter" when the
// expression is empty (what to write instead).
Result<std::string> check_filter(std::string_view text, std::string_view empty_hint);

}  // namespace dpcopy::cli
