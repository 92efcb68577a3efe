// EAL start-up and shutdown. The only place (with the rest of lib/dpdk_io)
// that calls rte_eal_*; returns errors, never exits (EAL itself still exits
// after printing its --help, which is what `dpcopy --help` asks for).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpcopy::io {

class Eal {
public:
    // The application's usage text, printed by EAL's --help after its own
    // options (rte_set_application_usage_hook). Call before init().
    static void set_usage_text(std::string text);

    // eal_args[0] is the program name. On failure returns nullptr and sets
    // `err` to one line (without the program name). EAL can be initialised
    // once per process.
    static std::unique_ptr<Eal> init(std::vector<std::string> eal_args, std::string& err);
    // After a failed init(): true when EAL refused its command line (rte_errno
    // EINVAL; EAL has then printed its usage), i.e. a user error (exit status 2)
    // rather than a runtime failure (1).
    static bool last_failure_was_usage() noexcept;

    ~Eal();  // rte_pdump_uninit(), rte_eal_cleanup()
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;

    unsigned lcore_count() const noexcept;
    unsigned port_count() const noexcept;                 // available ethdev ports
    bool port_valid(std::uint16_t port_id) const noexcept;

    // rte_pdump_init() ran at init(), so dpdk-dumpcap (a secondary process with the same
    // --file-prefix) can capture this process's ports (docs/operations.md). Its failure is
    // not an error: pdump_enabled() is false and pdump_warning() says why in one line
    // ("" when there is nothing to say); the caller prints it.
    bool pdump_enabled() const noexcept { return pdump_; }
    const std::string& pdump_warning() const noexcept { return pdump_warning_; }

private:
    Eal() = default;
    void start_pdump();
    bool pdump_ = false;
    std::string pdump_warning_;
};

}  // namespace dpcopy::io
