// What to tell a user whose option was not recognised or whose -i names an interface:
// tcpcopy's letters that dpcopy and dpintercept do not take get a pointer to what does
// the job; a mistyped long option gets "did you mean". Pure functions, unit-tested in
// tests/cli.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dpcopy::cli {

// Text to append to "unrecognised option 'OPTION'" (starting with "; "), or empty.
// `option` as Boost reports it ("--sesion-timeout", "-d", "bogus" from a config file);
// `known` the long names the program takes.
std::string unknown_option_hint(std::string_view prog, std::string_view option,
                                 const std::vector<std::string>& known);

// The edit distance (insertions, deletions, substitutions, transpositions) between two
// short strings, capped at `cap` + 1 (a larger distance is not worth computing).
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap);

// True when `name` is a network interface of this host (/sys/class/net/NAME): a -i that
// names one gets a pointer to net_af_packet instead of "no such file".
bool is_network_interface(const std::string& name);

}  // namespace dpcopy::cli
