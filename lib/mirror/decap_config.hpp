// --mirror-encap's text: MODE[,vni=N][,session=N] with MODE one of auto, none,
// vxlan[:PORT], geneve[:PORT], erspan, gretap (docs/mirrors.md).
#pragma once

#include <string>
#include <string_view>

#include "lib/mirror/decap.hpp"

namespace dpcopy::mirror {

// Fills `out` from `text`; on a malformed text returns false with a one-line reason in
// `error` (out is then unspecified).
bool parse_decap_config(std::string_view text, DecapConfig& out, std::string& error);

// The canonical text of a configuration (parse_decap_config reads it back to the same).
std::string to_string(const DecapConfig& cfg);

}  // namespace dpcopy::mirror
