// Where -l/--log writes. On stderr (no -l) lines go out as they are: a terminal has its
// own time and the status line its elapsed seconds. In a file every line starts with the
// UTC time to the millisecond ("[2026-12-07T07:50:01.123Z] "), and SIGHUP reopens the file
// by its name, so logrotate can move it away (rename, SIGHUP; the next line goes to a new
// file). Pure: tested on plain files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace dpcopy::io {

// "[2026-12-07T07:50:01.123Z] " for a wall-clock time in nanoseconds since the epoch.
std::string log_stamp(std::uint64_t wall_ns);

// Writes `text` (one or more lines; a final '\n' is added when missing) to `f`, each line
// stamped when `path` is set (a log file), then flushes.
void write_log(std::FILE* f, const std::optional<std::string>& path, std::string_view text);

// SIGHUP: reopens `path` for appending under the same FILE* (so every holder of `f`
// follows). Nothing to do without a path (stderr). False with `err` set when it cannot;
// `f` then keeps writing to the file it had.
bool reopen_log(std::FILE* f, const std::optional<std::string>& path, std::string& err);

}  // namespace dpcopy::io
