// The read planner merges a meter's registers into the fewest reads allowed.
#include <doctest/doctest.h>

#include "gw/drivers/profile.hpp"
#include "gw/drivers/read_plan.hpp"

using gw::Reg;
using gw::RegFunction;

namespace {
gw::RegisterSpec f32(std::uint16_t a, RegFunction fn = RegFunction::input) {
    gw::RegisterSpec s;
    s.address = a;
    s.type = gw::DataType::float32;
    s.function = fn;
    return s;
}
}  // namespace

TEST_CASE("adjacent registers become one read, holes up to max_gap are read over") {
    gw::RegisterMap m;
    m[Reg::u_l1n] = f32(0);
    m[Reg::u_l2n] = f32(2);
    m[Reg::u_l3n] = f32(4);
    m[Reg::p_total] = f32(12);  // a hole of 6 registers after u_l3n
    auto tight = gw::plan_reads(m, {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n, Reg::p_total}, 5);
    REQUIRE(tight.transactions() == 2);
    CHECK(tight.blocks[0].start == 0);
    CHECK(tight.blocks[0].count == 6);
    CHECK(tight.blocks[1].start == 12);
    CHECK(tight.blocks[1].count == 2);
    auto loose = gw::plan_reads(m, {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n, Reg::p_total}, 6);
    REQUIRE(loose.transactions() == 1);
    CHECK(loose.blocks[0].count == 14);
    CHECK(loose.registers() == 14);
    CHECK(loose.blocks[0].members.size() == 4);
}

TEST_CASE("holding and input registers are never merged") {
    gw::RegisterMap m;
    m[Reg::p_total] = f32(0, RegFunction::input);
    m[Reg::q_total] = f32(2, RegFunction::holding);
    auto plan = gw::plan_reads(m, {Reg::p_total, Reg::q_total}, 100);
    REQUIRE(plan.transactions() == 2);
    CHECK(plan.blocks[0].function != plan.blocks[1].function);
}

TEST_CASE("a read never exceeds 125 registers") {
    gw::RegisterMap m;
    m[Reg::p_total] = f32(0);
    m[Reg::q_total] = f32(123);  // registers 123..124: fits exactly
    m[Reg::u_l1n] = f32(125);    // would make 127
    auto plan = gw::plan_reads(m, {Reg::p_total, Reg::q_total, Reg::u_l1n}, 200);
    REQUIRE(plan.transactions() == 2);
    CHECK(plan.blocks[0].count == 125);
    CHECK(plan.blocks[1].start == 125);
    for (const auto& b : plan.blocks) CHECK(b.count <= gw::k_max_registers_per_read);
}

TEST_CASE("registers not in the map are skipped, order of the request does not matter") {
    gw::RegisterMap m;
    m[Reg::p_total] = f32(52);
    m[Reg::u_l1n] = f32(0);
    auto plan = gw::plan_reads(m, {Reg::p_total, Reg::e_import, Reg::u_l1n}, 0);
    REQUIRE(plan.transactions() == 2);
    CHECK(plan.blocks[0].start == 0);
}

TEST_CASE("needed registers follow the totals and the voltage mode") {
    gw::MeterConfig m;
    m.registers = gw::find_profile("eastron-sdm630")->map;
    auto regs = gw::needed_registers(m);
    CHECK(regs == std::vector<Reg>{Reg::p_total, Reg::q_total, Reg::u_l1n, Reg::u_l2n, Reg::u_l3n,
                                   Reg::e_import, Reg::e_export, Reg::eq_import, Reg::eq_export});
    // While the commissioning page watches: the per-phase powers too, after those.
    auto detail = gw::detail_registers(m);
    CHECK(detail == std::vector<Reg>{Reg::p_total, Reg::q_total, Reg::u_l1n, Reg::u_l2n, Reg::u_l3n,
                                     Reg::e_import, Reg::e_export, Reg::eq_import, Reg::eq_export,
                                     Reg::p_l1, Reg::p_l2, Reg::p_l3, Reg::q_l1, Reg::q_l2,
                                     Reg::q_l3});
    m.voltage = gw::VoltageMode::phase_to_phase;
    m.registers[Reg::p_total].reset();
    regs = gw::needed_registers(m);
    CHECK(regs[0] == Reg::p_l1);
    CHECK(std::find(regs.begin(), regs.end(), Reg::u_l12) != regs.end());
    CHECK(std::find(regs.begin(), regs.end(), Reg::u_l1n) == regs.end());
}

TEST_CASE("every built-in profile plans into few reads") {
    for (const auto& p : gw::builtin_profiles()) {
        gw::MeterConfig m;
        m.registers = p.map;
        auto plan = gw::plan_reads(m.registers, gw::needed_registers(m), 8);
        CAPTURE(p.name);
        CHECK(plan.transactions() >= 1);
        CHECK(plan.transactions() <= 4);
        for (const auto& b : plan.blocks) CHECK(b.count <= 125);
        std::size_t members = 0;
        for (const auto& b : plan.blocks) members += b.members.size();
        CHECK(members == gw::needed_registers(m).size());
        const auto detail = gw::plan_reads(m.registers, gw::detail_registers(m), 8);
        CHECK(detail.transactions() <= 4);
        MESSAGE(p.name, ": ", plan.transactions(), " read(s), ", plan.registers(),
                " registers; while the page watches ", detail.transactions(), " read(s), ",
                detail.registers(), " registers");
    }
}
