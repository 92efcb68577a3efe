// -F/--filter at run time, shared by dpcopy and dpintercept: a libpcap (tcpdump) expression
// compiled once for Ethernet frames. libpcap compiles it to classic BPF; DPDK converts that
// to eBPF (rte_bpf_convert) and JIT-compiles it where it can (rte_bpf_get_jit), else
// rte_bpf interprets it; if the conversion fails, libpcap's interpreter runs it on the
// frame's bytes. Read-only once compiled: every lcore may run the same filter.
#pragma once

#include <memory>
#include <string>

#include "lib/rewrite/bytes.hpp"

struct rte_mbuf;

namespace dpcopy::io {

class BpfFilter {
public:
    // nullptr with `err` set ("invalid value 'EXPR' for option --filter: <libpcap's message>").
    static std::unique_ptr<BpfFilter> compile(const std::string& expr, std::string& err);
    ~BpfFilter();
    BpfFilter(const BpfFilter&) = delete;
    BpfFilter& operator=(const BpfFilter&) = delete;

    // True when the frame in `m` passes. `frame` (its bytes, contiguous) is read only by
    // libpcap's interpreter, when runs_on_mbuf() is false.
    bool passes(rte_mbuf* m, net::ConstBytes frame) const noexcept;
    bool runs_on_mbuf() const noexcept;  // rte_bpf (JIT or interpreter)
    bool jit() const noexcept;           // JIT-compiled eBPF
    const char* engine() const noexcept; // "rte_bpf jit", "rte_bpf", "libpcap"

    struct Impl;
private:
    explicit BpfFilter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dpcopy::io
