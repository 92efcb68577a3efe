#include "lib/mirror/decap_config.hpp"

#include <charconv>

namespace dpcopy::mirror {

namespace {

bool parse_number(std::string_view s, std::uint64_t max, std::uint32_t& out) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > max) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool parse_mode(std::string_view word, DecapConfig& out, std::string& error) {
    const std::size_t colon = word.find(':');
    const std::string_view name = word.substr(0, colon);
    if (name == "auto") out.mode = EncapMode::auto_detect;
    else if (name == "none") out.mode = EncapMode::none;
    else if (name == "vxlan") out.mode = EncapMode::vxlan;
    else if (name == "geneve") out.mode = EncapMode::geneve;
    else if (name == "erspan") out.mode = EncapMode::erspan;
    else if (name == "gretap") out.mode = EncapMode::gretap;
    else {
        error = "unknown encapsulation '" + std::string(name) + "' (auto, none, vxlan[:PORT], geneve[:PORT], erspan, gretap)";
        return false;
    }
    if (colon == std::string_view::npos) return true;
    std::uint32_t port = 0;
    if ((out.mode != EncapMode::vxlan && out.mode != EncapMode::geneve) ||
        !parse_number(word.substr(colon + 1), 65535, port) || port == 0) {
        error = "'" + std::string(word) + "': only vxlan and geneve take a UDP port (1-65535)";
        return false;
    }
    (out.mode == EncapMode::vxlan ? out.vxlan_udp_port : out.geneve_udp_port) = static_cast<std::uint16_t>(port);
    return true;
}

bool parse_selector(std::string_view word, DecapConfig& out, std::string& error) {
    std::uint32_t v = 0;
    if (word.starts_with("vni=") && parse_number(word.substr(4), 0xffffff, v)) {
        out.select_vni = true;
        out.vni = v;
        return true;
    }
    if (word.starts_with("session=") && parse_number(word.substr(8), 0xffffffff, v)) {
        out.select_session = true;
        out.session = v;
        return true;
    }
    error = "'" + std::string(word) + "': expected vni=N (0-16777215) or session=N (ERSPAN session id, gretap key)";
    return false;
}

}  // namespace

bool parse_decap_config(std::string_view text, DecapConfig& out, std::string& error) {
    out = DecapConfig{};
    std::size_t comma = text.find(',');
    if (!parse_mode(text.substr(0, comma), out, error)) return false;
    while (comma != std::string_view::npos) {
        text.remove_prefix(comma + 1);
        comma = text.find(',');
        if (!parse_selector(text.substr(0, comma), out, error)) return false;
    }
    if (out.mode == EncapMode::none && (out.select_vni || out.select_session)) {
        error = "none takes no vni= or session= selector";
        return false;
    }
    return true;
}

std::string to_string(const DecapConfig& cfg) {
    std::string s;
    switch (cfg.mode) {
        case EncapMode::auto_detect: s = "auto"; break;
        case EncapMode::none: s = "none"; break;
        case EncapMode::vxlan: s = "vxlan:" + std::to_string(cfg.vxlan_udp_port); break;
        case EncapMode::geneve: s = "geneve:" + std::to_string(cfg.geneve_udp_port); break;
        case EncapMode::erspan: s = "erspan"; break;
        case EncapMode::gretap: s = "gretap"; break;
    }
    if (cfg.select_vni) s += ",vni=" + std::to_string(cfg.vni);
    if (cfg.select_session) s += ",session=" + std::to_string(cfg.session);
    return s;
}

}  // namespace dpcopy::mirror
