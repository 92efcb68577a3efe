// -F/--filter through rte_bpf (bpf_filter.hpp).
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API 1  // rte_bpf_convert is experimental in 22.11
#endif
#include "lib/dpdk_io/bpf_filter.hpp"

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

namespace dpcopy::io {

struct BpfFilter::Impl {
    rte_bpf* bpf = nullptr;
    bool bpf_mbuf_arg = true;
    rte_bpf_jit jit{};
    bpf_program cbpf{};
    bool cbpf_ok = false;

    ~Impl() {
        if (bpf) rte_bpf_destroy(bpf);
        if (cbpf_ok) pcap_freecode(&cbpf);
    }
};

BpfFilter::BpfFilter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpfFilter::~BpfFilter() = default;

std::unique_ptr<BpfFilter> BpfFilter::compile(const std::string& expr, std::string& err) {
    auto im = std::make_unique<Impl>();
    // libpcap compiles it for Ethernet; DPDK converts the cBPF to eBPF and JITs it.
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (!dead || pcap_compile(dead, &im->cbpf, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        err = "invalid value '" + expr + "' for option --filter: " + (dead ? pcap_geterr(dead) : "pcap_open_dead failed");
        if (dead) pcap_close(dead);
        return nullptr;
    }
    pcap_close(dead);
    im->cbpf_ok = true;
    if (rte_bpf_prm* prm = rte_bpf_convert(&im->cbpf)) {
        im->bpf_mbuf_arg = prm->prog_arg.type == RTE_BPF_ARG_PTR_MBUF;
        im->bpf = rte_bpf_load(prm);
        rte_free(prm);
        if (im->bpf && rte_bpf_get_jit(im->bpf, &im->jit) != 0) im->jit = {};
    }
    return std::unique_ptr<BpfFilter>(new BpfFilter(std::move(im)));
}

bool BpfFilter::passes(rte_mbuf* m, net::ConstBytes frame) const noexcept {
    const Impl& im = *impl_;
    if (im.jit.func) return im.jit.func(im.bpf_mbuf_arg ? static_cast<void*>(m) : rte_pktmbuf_mtod(m, void*)) != 0;
    if (im.bpf) return rte_bpf_exec(im.bpf, im.bpf_mbuf_arg ? static_cast<void*>(m) : rte_pktmbuf_mtod(m, void*)) != 0;
    if (im.cbpf_ok) {
        pcap_pkthdr h{};
        h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
        return pcap_offline_filter(&im.cbpf, &h, frame.data()) != 0;
    }
    return true;
}

bool BpfFilter::runs_on_mbuf() const noexcept { return impl_->bpf != nullptr; }
bool BpfFilter::jit() const noexcept { return impl_->jit.func != nullptr; }
const char* BpfFilter::engine() const noexcept {
    return impl_->jit.func ? "rte_bpf jit" : impl_->bpf ? "rte_bpf" : "libpcap";
}

}  // namespace dpcopy::io
