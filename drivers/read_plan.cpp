// Read planning.
#include "gw/drivers/read_plan.hpp"

#include <algorithm>
#include <tuple>

namespace gw {

unsigned ReadPlan::registers() const {
    unsigned n = 0;
    for (const auto& b : blocks) n += b.count;
    return n;
}

ReadCost read_cost(const LinkConfig& link) {
    using std::chrono::microseconds;
    const microseconds turnaround = std::chrono::milliseconds{link.turnaround_ms};
    if (!link.rtu_framing()) return {turnaround + link.frame_gap(), microseconds{0}};
    const microseconds ch = link.char_time();
    return {ch * 13 + link.frame_gap() * 2 + turnaround, ch * 2};
}

std::chrono::microseconds wire_minimum(const ReadPlan& plan, const LinkConfig& link) {
    if (!link.rtu_framing()) return std::chrono::microseconds{0};
    std::chrono::microseconds total{0};
    for (const ReadBlock& b : plan.blocks)
        total += link.char_time() * (13 + 2 * b.count) + link.frame_gap() * 2;
    return total;
}

ReadPlan plan_reads(const RegisterMap& map, const std::vector<Reg>& wanted, unsigned max_gap,
                    unsigned max_registers) {
    // Any hole up to max_gap is cheaper than a transaction.
    return plan_reads(map, wanted,
                      ReadCost{std::chrono::microseconds{1}, std::chrono::microseconds{0}}, max_gap,
                      max_registers);
}

ReadPlan plan_reads(const RegisterMap& map, const std::vector<Reg>& wanted, const ReadCost& cost,
                    unsigned max_gap, unsigned max_registers) {
    struct Item {
        Reg reg;
        RegisterSpec spec;
    };
    std::vector<Item> items;
    for (Reg r : wanted)
        if (map.has(r)) items.push_back({r, *map[r]});
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return std::tie(a.spec.function, a.spec.address) <
               std::tie(b.spec.function, b.spec.address);
    });
    ReadPlan plan;
    for (const Item& it : items) {
        const unsigned begin = it.spec.address;
        const unsigned end = begin + register_count(it.spec.type);  // exclusive
        if (!plan.blocks.empty()) {
            ReadBlock& b = plan.blocks.back();
            const unsigned b_end = unsigned(b.start) + b.count;
            const bool same_fn = b.function == it.spec.function;
            const unsigned gap = begin > b_end ? begin - b_end : 0;
            const unsigned new_end = std::max(b_end, end);
            const bool worth = cost.per_register * gap <= cost.transaction;
            if (same_fn && gap <= max_gap && worth && new_end - b.start <= max_registers) {
                b.count = static_cast<std::uint16_t>(new_end - b.start);
                b.members.push_back(it.reg);
                continue;
            }
        }
        plan.blocks.push_back({it.spec.function,
                               static_cast<std::uint16_t>(begin),
                               static_cast<std::uint16_t>(end - begin),
                               {it.reg}});
    }
    return plan;
}

std::vector<Reg> needed_registers(const MeterConfig& meter) {
    const RegisterMap& m = meter.registers;
    std::vector<Reg> out;
    if (m.has(Reg::p_total))
        out.push_back(Reg::p_total);
    else
        out.insert(out.end(), {Reg::p_l1, Reg::p_l2, Reg::p_l3});
    if (m.has(Reg::q_total))
        out.push_back(Reg::q_total);
    else
        out.insert(out.end(), {Reg::q_l1, Reg::q_l2, Reg::q_l3});
    if (meter.voltage == VoltageMode::phase_to_neutral)
        out.insert(out.end(), {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n});
    else
        out.insert(out.end(), {Reg::u_l12, Reg::u_l23, Reg::u_l31});
    for (Reg e : {Reg::e_import, Reg::e_export, Reg::eq_import, Reg::eq_export})
        if (m.has(e)) out.push_back(e);
    return out;
}

std::vector<Reg> detail_registers(const MeterConfig& meter) {
    std::vector<Reg> out = needed_registers(meter);
    for (Reg r : {Reg::p_l1, Reg::p_l2, Reg::p_l3, Reg::q_l1, Reg::q_l2, Reg::q_l3})
        if (meter.registers.has(r) && std::find(out.begin(), out.end(), r) == out.end())
            out.push_back(r);
    return out;
}

}  // namespace gw
