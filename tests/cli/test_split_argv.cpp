#include "apps/common/split_argv.hpp"

#include <catch2/catch.hpp>

using dpcopy::cli::split_argv;
using V = std::vector<std::string>;

TEST_CASE("split_argv: EAL before --, app after", "[cli][argv]") {
    struct Case {
        V argv;
        V eal;
        V app;
        bool separator;
        bool eal_help;
    };
    const std::vector<Case> cases = {
        {{"dpcopy"}, {"dpcopy"}, {}, false, false},
        {{"dpcopy", "--"}, {"dpcopy"}, {}, true, false},
        {{"dpcopy", "-l", "1-2", "--", "-x", "80-10.0.0.2:80"}, {"dpcopy", "-l", "1-2"}, {"-x", "80-10.0.0.2:80"}, true, false},
        {{"dpcopy", "--", "-x", "80-10.0.0.2:80"}, {"dpcopy"}, {"-x", "80-10.0.0.2:80"}, true, false},
        // A second "--" belongs to the app (boost then treats what follows as positional).
        {{"dpcopy", "-a", "--", "-W", "--", "x"}, {"dpcopy", "-a"}, {"-W", "--", "x"}, true, false},
        // No "--": everything is EAL's.
        {{"dpcopy", "-l", "1", "-x", "80-10.0.0.2:80"}, {"dpcopy", "-l", "1", "-x", "80-10.0.0.2:80"}, {}, false, false},
        // A lone --version is ours.
        {{"dpcopy", "--version"}, {"dpcopy"}, {"--version"}, false, false},
        // --version among EAL options is ours too (EAL has none).
        {{"dpcopy", "-l", "1", "--version", "-n", "4"}, {"dpcopy", "-l", "1", "-n", "4"}, {"--version"}, false, false},
        // After "--" it is an app argument like any other; before "--" it is EAL's.
        {{"dpcopy", "--version", "--"}, {"dpcopy", "--version"}, {}, true, false},
        // -h/--help without "--" go to EAL, whose usage hook prints ours.
        {{"dpcopy", "--help"}, {"dpcopy", "--help"}, {}, false, true},
        {{"dpcopy", "-l", "1", "-h"}, {"dpcopy", "-l", "1", "-h"}, {}, false, true},
        // With "--", help before it is EAL's own business; after it, ours.
        {{"dpcopy", "--", "--help"}, {"dpcopy"}, {"--help"}, true, false},
        {{"dpcopy", "--help", "--", "-x", "1-1.1.1.1:1"}, {"dpcopy", "--help"}, {"-x", "1-1.1.1.1:1"}, true, false},
    };
    for (const auto& c : cases) {
        INFO("argv size " << c.argv.size() << ", last '" << c.argv.back() << "'");
        const auto s = split_argv(c.argv);
        CHECK(s.eal == c.eal);
        CHECK(s.app == c.app);
        CHECK(s.separator == c.separator);
        CHECK(s.eal_help == c.eal_help);
    }
}

TEST_CASE("split_argv: argc/argv overload and an empty argv", "[cli][argv]") {
    const char* argv[] = {"dpintercept", "--no-huge", "--", "--ip", "10.0.0.3/24", nullptr};
    const auto s = split_argv(5, argv);
    CHECK(s.eal == V{"dpintercept", "--no-huge"});
    CHECK(s.app == V{"--ip", "10.0.0.3/24"});
    const auto e = split_argv(V{});
    CHECK(e.eal.size() == 1);
    CHECK(e.app.empty());
}

TEST_CASE("default_no_huge: only without free hugepages and without a memory option", "[cli][argv]") {
    using dpcopy::cli::default_no_huge;
    V eal{"dpcopy", "--vdev", "net_af_packet0,iface=m0"};
    V with_pages = eal;
    CHECK_FALSE(default_no_huge(with_pages, true, 1024));
    CHECK(with_pages == eal);
    CHECK(default_no_huge(eal, false, 1024));
    CHECK(eal == V{"dpcopy", "--vdev", "net_af_packet0,iface=m0", "--no-huge", "-m", "1024"});
    CHECK_FALSE(default_no_huge(eal, false, 1024));  // now it says --no-huge
    for (V given : {V{"dpcopy", "-m", "512"}, V{"dpcopy", "-m512"}, V{"dpcopy", "--socket-mem=512"},
                    V{"dpcopy", "--socket-mem", "512"}, V{"dpcopy", "--huge-dir", "/mnt/h"}, V{"dpcopy", "--in-memory"},
                    V{"dpcopy", "--no-huge"}}) {
        const V before = given;
        CHECK_FALSE(default_no_huge(given, false, 1024));
        CHECK(given == before);
    }
    V other{"dpcopy", "--master-lcore", "0", "-n", "4"};  // -n (memory channels) is not -m
    CHECK(default_no_huge(other, false, 64));
    CHECK(other.back() == "64");
}

TEST_CASE("default_af_packet_ring: framecnt added only where an af_packet vdev sets none", "[cli][argv]") {
    using dpcopy::cli::default_af_packet_ring;
    V eal{"dpcopy", "--vdev", "net_af_packet0,iface=m0", "--vdev=net_af_packet1,iface=t0,framecnt=64",
          "--vdev", "net_ring0", "--vdev=eth_af_packet2,iface=x", "-l", "0", "--vdev"};
    CHECK(default_af_packet_ring(eal, 4096) == 2);
    CHECK(eal == V{"dpcopy", "--vdev", "net_af_packet0,iface=m0,framecnt=4096",
                   "--vdev=net_af_packet1,iface=t0,framecnt=64", "--vdev", "net_ring0",
                   "--vdev=eth_af_packet2,iface=x,framecnt=4096", "-l", "0", "--vdev"});
    CHECK(default_af_packet_ring(eal, 4096) == 0);  // idempotent
    V plain{"dpcopy", "--vdev", "net_af_packet0", "-a", "net_af_packet0"};
    CHECK(default_af_packet_ring(plain, 8) == 1);
    CHECK(plain[2] == "net_af_packet0,framecnt=8");
    CHECK(plain[4] == "net_af_packet0");  // not a --vdev argument
}
