// The link state from a meter's recent polls.
#include <doctest/doctest.h>
#include <string>

#include "gw/drivers/link_state.hpp"

using gw::LinkState;
using gw::PollHistory;

TEST_CASE("link state: unknown before the first poll, then from the last ten polls") {
    PollHistory h;
    CHECK(h.state() == LinkState::unknown);
    CHECK(std::string(gw::link_state_name(h.state())) == "unknown");
    h.note(true);
    CHECK(h.state() == LinkState::ok);
    h.note(false);
    CHECK(h.state() == LinkState::degraded);
    // The good poll falls out of the window after ten more failures; then the meter is down.
    for (int i = 0; i < PollHistory::k_window - 2; ++i) {
        h.note(false);
        CHECK(h.state() == LinkState::degraded);
    }
    h.note(false);
    CHECK(h.state() == LinkState::down);
    CHECK(std::string(gw::link_state_name(h.state())) == "down");
    CHECK(h.polls() == PollHistory::k_window);
    // One good answer: degraded, not ok, until ten in a row have been good.
    h.note(true);
    CHECK(h.state() == LinkState::degraded);
    for (int i = 0; i < PollHistory::k_window - 2; ++i) h.note(true);
    CHECK(h.state() == LinkState::degraded);
    h.note(true);
    CHECK(h.state() == LinkState::ok);
    CHECK(std::string(gw::link_state_name(h.state())) == "ok");
}

TEST_CASE("link state: a meter that has never given a valid sample is down from its first poll") {
    PollHistory h;
    h.note(false);
    CHECK(h.state() == LinkState::down);
    h.note(false);
    CHECK(h.state() == LinkState::down);
    CHECK(h.polls() == 2);
}
