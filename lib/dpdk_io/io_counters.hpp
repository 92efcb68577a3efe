// Counters of the DPDK adapter (ports, hand-offs, host duties, the capture feeder), one
// per outcome and drop reason, generated from an X-macro like session::Counters so the
// status line, the report and telemetry print them generically (lib/counters). DPDK-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/counters/counter_set.hpp"

namespace dpcopy::io {

// X(name, description)
#define DPCOPY_IO_COUNTERS(X)                                                                           \
    /* receive side */                                                                                 \
    X(rx_frames, "frames received on dpcopy's ports")                                                  \
    X(rx_bytes, "bytes received on dpcopy's ports")                                                    \
    X(rx_target, "target TCP frames handed to the engine (local response path)")                       \
    X(rx_captured, "mirrored frames handed to the engine (live mode)")                                 \
    X(rx_host, "ARP, ICMP and ICMPv6 (NDP, echo) frames handled by the host stack")                                        \
    X(drop_rx_parse, "received frames the parser rejected")                                            \
    X(drop_rx_not_ours, "received frames for another host or of another protocol")                     \
    X(drop_rx_vlan, "frames on the TX port untagged or with other tags than --vlan's")                 \
    X(drop_decap_chain, "decapsulated mirrored frames whose outer padding could not be cut from their mbuf chain") \
    X(drop_capture_filter, "captured frames -F rejected (live: the inner frame, after decapsulation; offline: records read)") \
    X(drop_handoff_full, "frames dropped: the hand-off ring to the owner worker was full")             \
    X(drop_live_before_next_hop, "mirrored frames of a -x service dropped before the next hop's MAC was known (live)") \
    X(drop_live_before_next_hop_other, "other mirrored frames (not TCP, no -x service) dropped before the next hop's MAC was known") \
    /* transmit side */                                                                                \
    X(tx_frames, "frames transmitted")                                                                 \
    X(tx_bytes, "bytes transmitted")                                                                   \
    X(drop_tx_full, "frames dropped: the TX queue stayed full")                                        \
    X(drop_no_mbuf, "frames dropped: the mbuf pool was empty")                                         \
    X(drop_too_big, "frames dropped: larger than the largest frame the port takes")                    \
    X(drop_egress_not_target, "frames refused by the production guard: TCP toward no -x target")    \
    X(drop_egress_not_control_peer, "frames refused by the production guard: UDP toward no intercept's control port") \
    X(drop_egress_no_next_hop, "frames refused by the production guard: next hop's MAC not known yet") \
    X(drop_egress_unknown_kind, "frames refused by the production guard: not TCP/UDP/ARP/ICMP echo reply") \
    X(tx_chained, "data frames sent as a header mbuf chained to shared payload mbufs (-n zero-copy)")  \
    X(tx_payload_blocks, "payload blocks copied into an mbuf for chaining (once per block, any -n)")     \
    X(tx_chain_fallback, "data frames copied whole: no payload or indirect mbuf was free for a chain")  \
    /* host duties on the TX port */                                                                   \
    X(arp_requests_sent, "ARP requests sent to resolve the next hop")                                  \
    X(arp_replies_sent, "ARP replies sent for --ip and fake client addresses")                         \
    X(arp_resolved, "next-hop MAC addresses learnt (or changed)")                                      \
    X(arp_ignored, "ARP frames for other hosts, or replies we did not ask for")                        \
    X(icmp_echo_replies, "ICMP echo replies sent for --ip")                                            \
    X(icmp_ignored, "ICMP frames not an echo request for --ip")                                        \
    X(ndp_solicitations_sent, "neighbour solicitations sent to resolve an IPv6 next hop")             \
    X(ndp_advertisements_sent, "neighbour advertisements sent for the IPv6 --ip and fake IPv6 clients") \
    X(ndp_resolved, "IPv6 next-hop MAC addresses learnt (or changed)")                                \
    X(ndp_ignored, "NDP frames for other hosts, invalid (RFC 4861 checks, checksum), or unasked advertisements") \
    X(icmp6_echo_replies, "ICMPv6 echo replies sent for the IPv6 --ip")                               \
    X(icmp6_ignored, "ICMPv6 frames neither NDP nor an echo request for the IPv6 --ip")               \
    X(mirror_arp_replies, "ARP replies sent on the mirror port for --mirror-ip")                       \
    /* the poll loops (IdlePolicy) */                                                                  \
    X(idle_sleeps, "sleeps of the poll loops with nothing to do (--idle-sleep; 0 with --busy-poll)")   \
    X(busy_ns, "ns the workers spent in poll iterations that moved frames (their load: busy_ns / elapsed)") \
    /* offline source */                                                                               \
    X(file_frames, "records read from the capture file (every pass), skipped ones included")          \
    X(file_truncated, "records cut by the capture's snap length")                                      \
    X(drop_file_not_ip, "records skipped by the reader: neither IPv4 nor IPv6 (cooked/loopback capture)")  \
    X(drop_file_bad_link_header, "records skipped by the reader: too short for their link header")      \
    X(file_passes, "passes over the capture file completed (--loop)")                                  \
    X(fed_frames, "captured frames handed to the workers")                                             \
    X(feed_waits, "times the feeder waited for room in a worker (its ring full, or a pass to end)")    \
    X(capture_held, "captured frames a worker held back until its engine had room for them (offline back-pressure)") \
    X(capture_gaps_shortened, "capture gaps longer than --max-gap, shortened to it")

DPCOPY_DEFINE_COUNTERS(IoCounter, io_counter_count, io_counter_names, io_counter_descriptions, DPCOPY_IO_COUNTERS)

struct IoCounters : counters::CounterSet<IoCounter, io_counter_count> {};

}  // namespace dpcopy::io
