// libFuzzer harness of the session engine (lib/session/engine), fed with sequences of
// captured and target frames built from the input over a few addresses and ports so that
// sessions form, fill a deliberately small table and go through their states. The frames
// are mostly well-formed TCP with plausible sequence numbers (engine_events.hpp); some are
// raw input bytes. After every event (engine_checks.hpp):
//  - active sessions <= max_sessions, queued segments and payload blocks <= their pool;
//  - counters never decrease; captured_frames / target_frames / emitted_frames equal what
//    the harness handed in and received; created - ended == active;
//  - every emitted frame parses as TCP with correct checksums, within the MTU, with the
//    configured MACs and VLAN tags, from a fake client to a -x target (or an RST answering
//    a target frame of no session, back to its source);
// and at the end, after finish_input() and enough time, the engine is idle with every
// session ended and no queued segment or payload block left.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/engine_checks.hpp"
#include "tests/fuzz/engine_events.hpp"

using namespace dpcopy_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in(data, size);
    const std::uint8_t c0 = in.u8();
    const Setup setup = make_setup(c0);
    Checker chk(setup);
    std::string err;
    auto e = Engine::create(setup.cfg, chk.sink, err);
    if (!e) fail(err.c_str(), __FILE__, __LINE__);
    chk.engine = e.get();
    Driver drv(*e, chk);
    for (int step = 0; step < 2000 && !in.empty(); ++step) {
        drv.event(in);
        chk.check();
    }
    drv.drain();
    chk.check();
    chk.check_idle();
    // FUZZ_ENGINE_DUMP=1 fuzz_engine FILE...: what an input made the engine do.
    static const bool dump = std::getenv("FUZZ_ENGINE_DUMP") != nullptr;
    if (dump) {
        e->counters().for_each([](std::string_view group, std::string_view name, std::uint64_t v) {
            if (v != 0) std::fprintf(stderr, "%.*s.%.*s=%llu ", int(group.size()), group.data(), int(name.size()),
                                     name.data(), static_cast<unsigned long long>(v));
        });
        std::fprintf(stderr, "\n");
    }
    return 0;
}
