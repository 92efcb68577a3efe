// Control protocol version 2, codec level (docs/control-protocol.md, "Threat model"): the
// key file's checks (regular, ours, private), the key wiped when released, the key bound to
// the version and version 1 refused by name, and the intercept's replay state per
// (instance, sender epoch).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "lib/control/control_codec.hpp"

using namespace dpcopy::io::control;

namespace {

using Buf = std::vector<std::uint8_t>;
constexpr std::uint64_t kNow = 1'700'000'000'000'000'000ULL;
const Key kKey = Key::from_secret(ConstBytes(reinterpret_cast<const std::uint8_t*>("correct horse"), 13));

Buf enc_sub(const Key* key) {
    Subscribe s;
    s.heartbeat_ms = 200;
    s.expire_after = 3;
    s.n_clients = 1;
    s.clients[0] = {0x0a090001, 0x0a0900fe, 1024, 33279};
    s.reply = {0xc6120001, 40000};
    Header h;
    h.epoch = 42;
    h.seq = 1;
    h.ts_ns = kNow;
    Buf b(kMaxDatagram);
    b.resize(encode_subscribe(b, h, s, key));
    REQUIRE(!b.empty());
    return b;
}

Reject dec(const Buf& b, const Key* key) {
    Datagram d;
    return decode(b, key, kNow, kDefaultMaxSkewNs, d);
}

}  // namespace

TEST_CASE("key file: regular, ours, private; anything else refused with a clear error", "[control]") {
    const std::string path = "test_control_keyperm_" + std::to_string(::getpid()) + ".bin";
    std::remove(path.c_str());
    std::ofstream(path, std::ios::binary) << "correct horse";
    std::string err;
    for (mode_t mode : {0640, 0604, 0660, 0606, 0620, 0602, 0644}) {
        INFO("mode " << std::oct << mode);
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        err.clear();
        CHECK_FALSE(Key::from_file(path, err));
        CHECK(err.find("group or others") != std::string::npos);
        CHECK(err.find(path) != std::string::npos);
    }
    for (mode_t mode : {0600, 0400}) {
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        CHECK(Key::from_file(path, err));
    }
    // a symlink to a good key file is not followed
    const std::string link = path + ".lnk";
    std::remove(link.c_str());
    REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
    err.clear();
    CHECK_FALSE(Key::from_file(link, err));
    CHECK(err.find("cannot read key file") != std::string::npos);
    std::remove(link.c_str());
    // a directory, a FIFO (the non-blocking open does not hang on it)
    err.clear();
    CHECK_FALSE(Key::from_file(".", err));
    CHECK(err.find("not a regular file") != std::string::npos);
    const std::string fifo = path + ".fifo";
    std::remove(fifo.c_str());
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    err.clear();
    CHECK_FALSE(Key::from_file(fifo, err));
    CHECK(err.find("not a regular file") != std::string::npos);
    std::remove(fifo.c_str());
    // another owner (only root can make one)
    if (::geteuid() == 0) {
        REQUIRE(::chmod(path.c_str(), 0600) == 0);
        REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
        err.clear();
        CHECK_FALSE(Key::from_file(path, err));
        CHECK(err.find("not by this user") != std::string::npos);
    }
    std::remove(path.c_str());
}

TEST_CASE("key material is wiped when a Key is destroyed", "[control]") {
    alignas(Key) unsigned char storage[sizeof(Key)];
    Key* k = new (storage) Key(kKey);
    REQUIRE(std::any_of(k->bytes().begin(), k->bytes().end(), [](std::uint8_t b) { return b != 0; }));
    const unsigned char* bytes = reinterpret_cast<const unsigned char*>(k->bytes().data());
    const std::size_t off = static_cast<std::size_t>(bytes - storage);
    k->~Key();
    CHECK(std::all_of(storage + off, storage + off + 32, [](unsigned char b) { return b == 0; }));
}

TEST_CASE("version 2: the key derivation is bound to the version; v1 datagrams are old_version", "[control]") {
    // BLAKE2b-256 of "correct horse" keyed with "dpcopy control protocol v2" (Python's hashlib);
    // with "... v1" it starts 0x2e 0x8b: a v1 peer's MAC never verifies
    const std::array<std::uint8_t, 32> v2{0x9d, 0xe5, 0x9c, 0x87, 0x80, 0x11, 0xc7, 0xae, 0x4a, 0x76, 0x30,
                                          0x63, 0x9f, 0xea, 0x4d, 0x75, 0x99, 0xce, 0x52, 0xf2, 0xcc, 0x25,
                                          0x43, 0xfe, 0xd7, 0xc9, 0xee, 0xd1, 0xda, 0xf6, 0x54, 0x79};
    CHECK(kKey.bytes() == v2);
    Buf b = enc_sub(&kKey);
    b[4] = kOldVersion;
    CHECK(dec(b, &kKey) == Reject::old_version);  // refused as old, by name, before the MAC
    b[4] = 0;
    CHECK(dec(b, &kKey) == Reject::bad_version);
}

TEST_CASE("sender replay state: per (instance, epoch), kept until keep_until, capped", "[control]") {
    SenderReplay r(2);
    CHECK(r.accept(0, 100, 1, kNow, kNow + 10) == Reject::none);
    CHECK(r.accept(0, 100, 1, kNow + 5, kNow + 10) == Reject::replayed);
    CHECK(r.accept(0, 101, 1, kNow, kNow + 10) == Reject::none);   // another epoch: its own window
    CHECK(r.accept(1, 100, 1, kNow, kNow + 10) == Reject::replay_full);
    CHECK(r.accept(0, 100, 1, kNow + 10, kNow + 20) == Reject::replayed);  // still kept at keep_until
    CHECK(r.accept(0, 100, 2, kNow + 10, kNow + 30) == Reject::none);      // extends it to +30
    CHECK(r.accept(1, 100, 1, kNow + 11, kNow + 40) == Reject::none);      // reuses (0, 101): past +10
    CHECK(r.size() == 2);
    CHECK(r.accept(0, 101, 1, kNow + 12, kNow + 40) == Reject::replay_full);  // forgotten, and no room
    CHECK(r.accept(0, 100, 2, kNow + 29, kNow + 40) == Reject::replayed);
}
