#include "lib/dpdk_io/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include <cerrno>
#include <cstdio>

namespace dpcopy::io {

namespace {

std::string& usage_text() {
    static std::string text;
    return text;
}

void usage_hook(const char* /*prgname*/) {
    std::fputs(usage_text().c_str(), stdout);
}

// EAL may keep pointers into argv and permutes it: keep it for the process.
std::vector<std::string>& arg_storage() {
    static std::vector<std::string> args;
    return args;
}
int last_errno = 0;

std::vector<char*>& argv_storage() {
    static std::vector<char*> argv;
    return argv;
}

}  // namespace

void Eal::set_usage_text(std::string text) {
    usage_text() = std::move(text);
    rte_set_application_usage_hook(usage_hook);
}

std::unique_ptr<Eal> Eal::init(std::vector<std::string> eal_args, std::string& err) {
    auto& args = arg_storage();
    auto& argv = argv_storage();
    if (!argv.empty()) {
        err = "EAL is already initialised in this process";
        return nullptr;
    }
    args = std::move(eal_args);
    if (args.empty()) args.emplace_back("dpcopy");
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    if (rc < 0) {
        last_errno = rte_errno;
        err = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
              " (see the EAL messages above)";
        return nullptr;
    }
    std::unique_ptr<Eal> eal(new Eal());
    eal->start_pdump();
    return eal;
}

void Eal::start_pdump() {
    // The primary process answers dpdk-dumpcap's (a secondary process) requests over EAL's
    // multi-process channel; without it (--in-memory, --no-shconf) there is nothing to
    // answer: not an error.
    if (rte_eal_process_type() != RTE_PROC_PRIMARY) return;
    if (rte_pdump_init() == 0) {
        pdump_ = true;
        return;
    }
    if (rte_errno == ENOTSUP) {
        pdump_warning_ = "packet capture (dpdk-dumpcap) is off: EAL runs without its multi-process channel "
                         "(--in-memory or --no-shconf)";
        return;
    }
    pdump_warning_ = std::string("warning: packet capture (dpdk-dumpcap) is unavailable: rte_pdump_init: ") +
                     rte_strerror(rte_errno);
}

bool Eal::last_failure_was_usage() noexcept { return last_errno == EINVAL; }

Eal::~Eal() {
    if (pdump_) rte_pdump_uninit();
    rte_eal_cleanup();
}

unsigned Eal::lcore_count() const noexcept { return rte_lcore_count(); }

unsigned Eal::port_count() const noexcept { return rte_eth_dev_count_avail(); }

bool Eal::port_valid(std::uint16_t port_id) const noexcept { return rte_eth_dev_is_valid_port(port_id) != 0; }

}  // namespace dpcopy::io
