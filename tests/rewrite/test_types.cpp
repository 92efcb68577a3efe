#include <catch2/catch.hpp>

#include "lib/rewrite/types.hpp"

using namespace dpcopy::net;

TEST_CASE("Seq compares modulo 2^32", "[types]") {
    CHECK(Seq(1) < Seq(2));
    CHECK(Seq(0xffffffffU) < Seq(0));
}
