// --mirror-encap's text (lib/mirror/decap_config).
#include <catch2/catch.hpp>

#include "lib/mirror/decap_config.hpp"

using namespace dpcopy::mirror;

TEST_CASE("mirror-encap texts that parse", "[decap_config]") {
    DecapConfig c;
    std::string err;
    REQUIRE(parse_decap_config("auto", c, err));
    CHECK(c.mode == EncapMode::auto_detect);
    CHECK(c.vxlan_udp_port == 4789);
    CHECK(c.geneve_udp_port == 6081);
    CHECK_FALSE(c.select_vni);
    REQUIRE(parse_decap_config("vxlan:8472,vni=16777215", c, err));
    CHECK(c.mode == EncapMode::vxlan);
    CHECK(c.vxlan_udp_port == 8472);
    CHECK(c.select_vni);
    CHECK(c.vni == 16777215);
    REQUIRE(parse_decap_config("geneve:6082", c, err));
    CHECK(c.geneve_udp_port == 6082);
    CHECK(c.vxlan_udp_port == 4789);
    REQUIRE(parse_decap_config("erspan,session=1023", c, err));
    CHECK(c.mode == EncapMode::erspan);
    CHECK(c.select_session);
    CHECK(c.session == 1023);
    REQUIRE(parse_decap_config("auto,vni=5,session=7", c, err));
    CHECK((c.select_vni && c.vni == 5 && c.select_session && c.session == 7));
    REQUIRE(parse_decap_config("gretap,session=4294967295", c, err));
    CHECK(c.session == 4294967295U);
    REQUIRE(parse_decap_config("none", c, err));
    CHECK(c.mode == EncapMode::none);
}

TEST_CASE("mirror-encap texts that do not parse name the problem", "[decap_config]") {
    for (const char* bad : {"", "vxlam", "vxlan:", "vxlan:0", "vxlan:65536", "vxlan:47x", "erspan:4789", "auto:1",
                            "auto,", "auto,vni=", "auto,vni=16777216", "auto,vni=-1", "auto,session=4294967296",
                            "auto,key=3", "none,vni=3", "AUTO", " auto"}) {
        INFO("'" << bad << "'");
        DecapConfig c;
        std::string err;
        CHECK_FALSE(parse_decap_config(bad, c, err));
        CHECK_FALSE(err.empty());
        CHECK(err.find('\n') == std::string::npos);
    }
}

TEST_CASE("to_string reads back to the same configuration", "[decap_config]") {
    for (const char* text : {"auto", "none", "vxlan:4789", "vxlan:8472,vni=3", "geneve:6081,session=9", "erspan,session=5",
                             "gretap", "auto,vni=1,session=2"}) {
        DecapConfig a, b;
        std::string err;
        REQUIRE(parse_decap_config(text, a, err));
        CHECK(to_string(a) == text);
        REQUIRE(parse_decap_config(to_string(a), b, err));
        CHECK(to_string(b) == to_string(a));
    }
}
