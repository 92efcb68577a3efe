// The Prometheus endpoint over loopback: what a scrape returns, that each scrape collects
// afresh, and a clear error for an address it cannot bind.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "lib/metrics/exporter.hpp"

using namespace dpcopy::metrics;

namespace {

std::string http_get(int port, const std::string& path) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return out;
}

}  // namespace

TEST_CASE("Exporter serves the collected samples in the Prometheus text format") {
    std::atomic<int> scrapes{0};
    std::string err;
    auto ex = Exporter::start("127.0.0.1:0", [&] {
        ++scrapes;
        return MetricSet{
            Sample{"dpcopy_requests_total", "requests sent", Kind::counter, {}, 41.0 + scrapes},
            Sample{"dpcopy_lost_total", "lost, by reason", Kind::counter, {{"reason", "drop_tx_full"}}, 3},
            Sample{"dpcopy_lost_total", "lost, by reason", Kind::counter, {{"reason", "port_rx_missed"}}, 0},
            Sample{"dpcopy_sessions_active", "sessions alive", Kind::gauge, {}, 7},
        };
    }, err);
    REQUIRE(ex);
    CHECK(err.empty());
    REQUIRE(ex->port() > 0);
    const std::string first = http_get(ex->port(), "/metrics");
    CHECK(first.find("200 OK") != std::string::npos);
    CHECK(first.find("# TYPE dpcopy_requests_total counter") != std::string::npos);
    CHECK(first.find("\ndpcopy_requests_total 42") != std::string::npos);
    CHECK(first.find("# HELP dpcopy_lost_total lost, by reason") != std::string::npos);
    CHECK(first.find("dpcopy_lost_total{reason=\"drop_tx_full\"} 3") != std::string::npos);
    CHECK(first.find("dpcopy_lost_total{reason=\"port_rx_missed\"} 0") != std::string::npos);
    CHECK(first.find("# TYPE dpcopy_sessions_active gauge") != std::string::npos);
    CHECK(first.find("\ndpcopy_sessions_active 7") != std::string::npos);
    const std::string second = http_get(ex->port(), "/metrics");  // collected again
    CHECK(second.find("\ndpcopy_requests_total 43") != std::string::npos);
    CHECK(scrapes == 2);
}

TEST_CASE("Exporter: an address it cannot listen on is one clear error") {
    std::string err;
    auto first = Exporter::start("127.0.0.1:0", [] { return MetricSet{}; }, err);
    REQUIRE(first);
    const std::string taken = "127.0.0.1:" + std::to_string(first->port());
    auto second = Exporter::start(taken, [] { return MetricSet{}; }, err);
    CHECK(!second);
    CHECK(err.find("cannot serve metrics on " + taken) == 0);
    CHECK(err.find('\n') == std::string::npos);
}

TEST_CASE("metric and label names") {
    CHECK(valid_metric_name("dpcopy_requests_total"));
    CHECK(valid_metric_name("a:b_c9"));
    CHECK(!valid_metric_name("9abc"));
    CHECK(!valid_metric_name("a-b"));
    CHECK(!valid_metric_name(""));
    CHECK(valid_label_name("reason"));
    CHECK(!valid_label_name("a:b"));
}
