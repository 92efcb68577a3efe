// The capture queue alone (lib/session/capture_queue.hpp): what a session's list holds after
// in-order, out-of-order, overlapping and duplicate segments, FINs, the capacity bounds, and
// blocks going back to the pool when pieces are freed.
#include <catch2/catch.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "lib/session/capture_queue.hpp"

using namespace dpcopy;
using namespace dpcopy::session;
using net::Seq;

namespace {

struct Held {
    std::uint32_t seq;
    std::string bytes;
    std::uint8_t flags;
    bool operator==(const Held&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Held& h) {
    return os << "{" << h.seq << ", \"" << h.bytes << "\", " << int{h.flags} << "}";
}

// A queue over pools of `pieces` pieces and `blocks` blocks.
struct Rig {
    PiecePool pieces;
    BlockPool blocks;
    CaptureQueue queue;
    PieceList list;
    Seq contiguous{100};
    explicit Rig(std::uint32_t max_per_session = 64, bool share = false, std::uint32_t n_pieces = 64, std::uint32_t n_blocks = 64)
        : pieces(n_pieces), blocks(n_blocks), queue(pieces, blocks, max_per_session, share) {}

    CaptureQueue::Added add(std::uint32_t seq, const std::string& s, bool fin = false, std::uint32_t ack = 7000,
                            std::uint32_t low = 100) {
        return add_to(list, seq, net::ConstBytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()), fin, ack, low);
    }
    CaptureQueue::Added add_to(PieceList& l, std::uint32_t seq, net::ConstBytes payload, bool fin, std::uint32_t ack,
                               std::uint32_t low) {
        CaptureQueue::Segment seg;
        seg.seq = Seq(seq);
        seg.payload = payload;
        seg.ack = Seq(ack);
        seg.has_ack = true;
        seg.fin = fin;
        seg.cap_time = 5;
        seg.srv_time = 4;
        return queue.add(l, seg, Seq(low), contiguous);
    }
    std::vector<Held> held(const PieceList& l) const {
        std::vector<Held> v;
        for (std::uint32_t id = l.head; id != PieceList::kNone; id = pieces[id].next) {
            const Piece& p = pieces[id];
            std::string b;
            if (p.len > 0) b.assign(reinterpret_cast<const char*>(blocks.data(p.block) + p.boff), p.len);
            v.push_back({p.seq.value(), b, static_cast<std::uint8_t>(p.flags & ~Piece::kOwnBlock)});
        }
        return v;
    }
    std::vector<Held> held() const { return held(list); }
};

constexpr std::uint8_t A = Piece::kAck;
constexpr std::uint8_t AF = Piece::kAck | Piece::kFin;

}  // namespace

TEST_CASE("capture queue: in-order segments are appended and the stream is contiguous") {
    Rig r;
    const auto a = r.add(100, "abc");
    CHECK_FALSE(a.duplicate);
    CHECK_FALSE(a.trimmed);
    CHECK(a.full == CaptureQueue::Full::no);
    CHECK(a.first == r.list.head);
    r.add(103, "defg");
    CHECK(r.held() == std::vector<Held>{{100, "abc", A}, {103, "defg", A}});
    CHECK(r.list.count == 2);
    CHECK(r.contiguous == Seq(107));
    CHECK_FALSE(r.queue.has_hole(r.list, r.contiguous));
    CHECK(r.pieces.in_use() == 2);
    CHECK(r.blocks.in_use() == 2);  // one private block per piece
    CHECK(r.pieces[r.list.head].cap_time == 5);
    CHECK(r.pieces[r.list.head].srv_time == 4);
    CHECK(r.pieces[r.list.head].ack == Seq(7000));
}

TEST_CASE("capture queue: out-of-order segments are kept in order, the hole until filled") {
    Rig r;
    r.add(106, "ghi");
    CHECK(r.contiguous == Seq(100));
    CHECK(r.queue.has_hole(r.list, r.contiguous));
    r.add(100, "abc");
    CHECK(r.held() == std::vector<Held>{{100, "abc", A}, {106, "ghi", A}});
    CHECK(r.contiguous == Seq(103));
    CHECK(r.queue.has_hole(r.list, r.contiguous));
    r.add(103, "def");
    CHECK(r.held() == std::vector<Held>{{100, "abc", A}, {103, "def", A}, {106, "ghi", A}});
    CHECK(r.contiguous == Seq(109));
    CHECK_FALSE(r.queue.has_hole(r.list, r.contiguous));
    CHECK(r.list.count == 3);
    CHECK(r.pieces[r.list.tail].seq == Seq(106));
}

TEST_CASE("capture queue: overlaps are trimmed to the missing bytes") {
    Rig r;
    r.add(100, "ab");
    r.add(106, "gh");
    // [99, 110): 99 is below `low`, [100, 102) and [106, 108) are queued
    const auto a = r.add(99, "zabcdefghij");
    CHECK(a.trimmed);
    CHECK(a.first != PieceList::kNone);
    CHECK(r.held() == std::vector<Held>{{100, "ab", A}, {102, "cdef", A}, {106, "gh", A}, {108, "ij", A}});
    CHECK(r.contiguous == Seq(110));
    // a retransmission overlapping the end
    const auto b = r.add(108, "ijklm");
    CHECK(b.trimmed);
    CHECK(r.held().back() == Held{110, "klm", A});
    CHECK(r.list.count == 5);
}

TEST_CASE("capture queue: duplicates change nothing") {
    Rig r;
    r.add(100, "abc");
    const auto again = r.add(100, "abc");
    CHECK_FALSE(again.duplicate);
    CHECK(again.trimmed);
    CHECK(again.first == PieceList::kNone);  // (the engine counts it a duplicate)
    const auto below = r.add(90, "0123456789", false, 7000, 100);  // ends at `low`
    CHECK(below.duplicate);
    const auto older = r.add(80, "x");
    CHECK(older.duplicate);
    CHECK(r.held() == std::vector<Held>{{100, "abc", A}});
    CHECK(r.list.count == 1);
    CHECK(r.pieces.in_use() == 1);
    CHECK(r.blocks.in_use() == 1);
}

TEST_CASE("capture queue: a FIN goes on the last piece, or alone when its ack differs") {
    Rig r;
    const auto a = r.add(100, "abc", true);
    CHECK(a.fin_placed);
    CHECK(r.held() == std::vector<Held>{{100, "abc", AF}});
    CHECK(r.contiguous == Seq(104));  // the FIN counts

    Rig s;
    s.add(100, "abc", false, 7000);
    const auto same = s.add(103, "", true, 7000);
    CHECK(same.fin_placed);
    CHECK(s.held() == std::vector<Held>{{100, "abc", AF}});
    CHECK(s.list.count == 1);

    Rig t;
    t.add(100, "abc", false, 7000);
    const auto other = t.add(103, "", true, 7500);  // sent after the answer: paced by it
    CHECK(other.fin_placed);
    CHECK(t.held() == std::vector<Held>{{100, "abc", A}, {103, "", AF}});
    CHECK(t.contiguous == Seq(104));
    // data captured late, before the FIN
    CHECK(t.queue.before_fin(t.list, Seq(101), 2));
    CHECK_FALSE(t.queue.before_fin(t.list, Seq(103), 1));
    CHECK_FALSE(t.queue.before_fin(t.list, Seq(101), 0));
}

TEST_CASE("capture queue: the per-session bound and the worker's pools") {
    Rig r(2);
    r.add(100, "a");
    r.add(101, "b");
    const auto a = r.add(102, "c");
    CHECK(a.full == CaptureQueue::Full::session);
    CHECK_FALSE(a.fin_placed);
    CHECK(r.held() == std::vector<Held>{{100, "a", A}, {101, "b", A}});
    CHECK(r.pieces.in_use() == 2);

    Rig w(10, false, 2, 64);  // two pieces in the worker
    w.add(100, "a");
    w.add(101, "b");
    const auto b = w.add(102, "c", true);
    CHECK(b.full == CaptureQueue::Full::worker);
    CHECK_FALSE(b.fin_placed);
    CHECK(w.list.count == 2);

    Rig k(10, false, 64, 1);  // one block in the worker
    k.add(100, "a");
    CHECK(k.add(101, "b").full == CaptureQueue::Full::worker);
    CHECK(k.held() == std::vector<Held>{{100, "a", A}});

    // a run that does not fit drops the rest of the segment; what went before it stays
    Rig m(3);
    m.add(100, "a");
    m.add(103, "d");
    m.add(105, "f");
    const auto c = m.add(100, "abcdef");
    CHECK(c.full == CaptureQueue::Full::session);
    CHECK(m.held() == std::vector<Held>{{100, "a", A}, {103, "d", A}, {105, "f", A}});
}

TEST_CASE("capture queue: a segment over several blocks, its blocks shared by the replicas") {
    Rig r(64, true);
    std::vector<std::uint8_t> frame(5000);
    for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>('a' + i % 26);
    PieceList other;
    r.queue.share_frame(frame);
    r.add_to(r.list, 100, frame, false, 7000, 100);
    Seq c2{100};
    std::swap(c2, r.contiguous);
    r.add_to(other, 100, frame, false, 7000, 100);
    std::swap(c2, r.contiguous);
    r.queue.end_frame();
    CHECK(r.list.count == 3);  // 2048 + 2048 + 904
    CHECK(other.count == 3);
    CHECK(r.contiguous == Seq(5100));
    CHECK(c2 == Seq(5100));
    CHECK(r.blocks.in_use() == 3);  // one copy for both lists
    const std::vector<Held> h = r.held();
    REQUIRE(h.size() == 3);
    CHECK(h[0].seq == 100);
    CHECK(h[1].seq == 2148);
    CHECK(h[2].seq == 4196);
    CHECK(h[2].bytes.size() == 904);
    CHECK(h == r.held(other));
    CHECK(r.blocks.refs(r.pieces[r.list.head].block) == 2);
    // freeing one list keeps the blocks; freeing both returns them
    std::vector<std::uint32_t> released;
    r.queue.clear(r.list);
    r.queue.release_blocks([&](std::uint32_t b) { released.push_back(b); });
    CHECK(released.empty());
    CHECK(r.blocks.in_use() == 3);
    r.queue.clear(other);
    CHECK(r.blocks.in_use() == 3);  // until release_blocks()
    r.queue.release_blocks([&](std::uint32_t b) { released.push_back(b); });
    CHECK(released.size() == 3);
    CHECK(r.blocks.in_use() == 0);
    CHECK(r.pieces.in_use() == 0);
}

TEST_CASE("capture queue: acknowledged pieces are freed, their blocks back in the pool") {
    Rig r;
    r.add(100, "abc");
    r.add(103, "def", true);
    CHECK(r.pieces.in_use() == 2);
    CHECK(r.blocks.in_use() == 2);
    r.queue.drop_acked(r.list, Seq(105));  // the second piece is not all acknowledged
    CHECK(r.held() == std::vector<Held>{{103, "def", AF}});
    CHECK(r.list.count == 1);
    CHECK(r.pieces.in_use() == 1);
    CHECK(r.blocks.in_use() == 1);  // a private block goes back at once
    r.queue.drop_acked(r.list, Seq(106));
    CHECK(r.list.count == 1);  // its FIN is not acknowledged
    r.queue.drop_acked(r.list, Seq(107));
    CHECK(r.list.empty());
    CHECK(r.list.tail == PieceList::kNone);
    CHECK(r.list.count == 0);
    CHECK(r.pieces.in_use() == 0);
    CHECK(r.blocks.in_use() == 0);
}

TEST_CASE("capture queue: the first unsent piece, from the list's cursor") {
    Rig r;
    r.add(100, "abc");
    r.add(103, "def", true);
    const std::uint32_t first = r.list.head, second = r.pieces[first].next;
    CHECK(r.queue.first_unsent(r.list, Seq(100)) == first);
    CHECK(r.queue.first_unsent(r.list, Seq(104)) == second);
    CHECK(r.list.send == second);
    CHECK(r.queue.first_unsent(r.list, Seq(106)) == second);  // its FIN is not sent
    CHECK(r.queue.first_unsent(r.list, Seq(107)) == PieceList::kNone);
    CHECK(r.queue.first_unsent(r.list, Seq(101)) == first);  // back before the cursor
    CHECK(r.queue.has_data_after(r.list, Seq(105)));
    CHECK_FALSE(r.queue.has_data_after(r.list, Seq(106)));
    r.queue.first_unsent(r.list, Seq(104));
    r.queue.free_head(r.list);
    CHECK(r.list.send == second);
    r.queue.free_head(r.list);
    CHECK(r.list.send == PieceList::kNone);  // the cursor's piece was freed
}

TEST_CASE("capture queue: a piece's payload replaced in a block of its own") {
    Rig r(64, true);
    const std::string s = "abcdef";
    const net::ConstBytes payload(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    PieceList other;
    r.queue.share_frame(payload);
    r.add_to(r.list, 100, payload, false, 7000, 100);
    r.add_to(other, 100, payload, false, 7000, 100);
    r.queue.end_frame();
    const std::string t = "ABCDEF";
    REQUIRE(r.queue.replace_payload(r.pieces[r.list.head],
                                    net::ConstBytes(reinterpret_cast<const std::uint8_t*>(t.data()), t.size())));
    r.queue.release_blocks();
    CHECK(r.held() == std::vector<Held>{{100, "ABCDEF", A}});
    CHECK(r.held(other) == std::vector<Held>{{100, "abcdef", A}});
    CHECK(r.blocks.in_use() == 2);

    Rig full(64, true, 64, 1);
    full.add(100, "abc");
    CHECK_FALSE(full.queue.replace_payload(full.pieces[full.list.head], net::ConstBytes{}));
    CHECK(full.held() == std::vector<Held>{{100, "abc", A}});
}
