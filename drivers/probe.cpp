#include "gw/drivers/probe.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "gw/drivers/decode.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/drivers/read_plan.hpp"

namespace gw {

OneRead read_once(RegisterReader& link, const MeterConfig& meter, SysMs at, SteadyMs now) {
    OneRead out;
    std::vector<Reg> all;
    for (std::size_t i = 0; i < k_reg_count; ++i)
        if (meter.registers.regs[i]) all.push_back(static_cast<Reg>(i));
    const ReadPlan plan = plan_reads(meter.registers, all, read_cost(link.config()),
                                     static_cast<unsigned>(meter.max_read_gap));
    std::vector<std::vector<std::uint16_t>> words(plan.blocks.size());
    std::vector<bool> read(plan.blocks.size(), false);
    for (std::size_t b = 0; b < plan.blocks.size(); ++b) {
        const ReadBlock& blk = plan.blocks[b];
        words[b].resize(blk.count);
        Status st =
            link.read(meter.unit_id, blk.function, blk.start, blk.count, words[b].data(), now);
        if (!st) {
            if (!out.error) out.error = st.error();
            continue;
        }
        read[b] = true;
    }
    for (std::size_t b = 0; b < plan.blocks.size(); ++b) {
        for (Reg r : plan.blocks[b].members) {
            const RegisterSpec& spec = *meter.registers[r];
            RegisterValue v{r, spec, {}, std::nullopt, {}};
            if (!read[b]) {
                v.problem = "not read";
            } else {
                const std::size_t offset = spec.address - plan.blocks[b].start;
                const auto n = register_count(spec.type);
                v.words.assign(words[b].begin() + static_cast<std::ptrdiff_t>(offset),
                               words[b].begin() + static_cast<std::ptrdiff_t>(offset + n));
                auto d = decode_value(spec, v.words);
                if (d)
                    v.value = *d;
                else
                    v.problem = d.error().message;
            }
            out.registers.push_back(std::move(v));
        }
    }
    std::sort(out.registers.begin(), out.registers.end(),
              [](const auto& a, const auto& b) { return a.reg < b.reg; });
    if (out.error) {
        out.sample_error = out.error;
        return out;
    }
    RawValues raw{};
    for (const auto& v : out.registers) raw[static_cast<std::size_t>(v.reg)] = v.value;
    auto s = make_sample(meter, raw, at, now);
    if (s)
        out.sample = *s;
    else
        out.sample_error = s.error();
    return out;
}

namespace {

std::optional<double> read_value(RegisterReader& link, int unit, const RegisterSpec& spec,
                                 SteadyMs now, std::optional<Error>& error) {
    std::vector<std::uint16_t> w(register_count(spec.type));
    Status st = link.read(unit, spec.function, spec.address, static_cast<std::uint16_t>(w.size()),
                          w.data(), now);
    if (!st) {
        error = st.error();
        return std::nullopt;
    }
    auto d = decode_value(spec, w);
    return d ? std::optional(*d) : std::nullopt;
}

/// A reply, or an exception from the unit itself. Exceptions 10 and 11 come from a Modbus TCP
/// gateway that has no path to the unit or got no answer from it: nothing is there.
bool answered(const std::optional<Error>& e) {
    if (!e) return true;
    if (e->code != Errc::modbus_exception) return false;
    return e->message.find("exception 10 (") == std::string::npos &&
           e->message.find("exception 11 (") == std::string::npos;
}

}  // namespace

Probe probe_unit(RegisterReader& link, int unit, SteadyMs now) {
    Probe p;
    p.unit = unit;
    // Something there? The first profile's L1 voltage: a reply or an exception says yes.
    const auto& profiles = builtin_profiles();
    std::optional<Error> first;
    for (const auto& prof : profiles) {
        const auto& u1 = prof.map[Reg::u_l1n];
        if (!u1) continue;
        (void)read_value(link, unit, *u1, now, first);
        break;
    }
    p.answered = answered(first);
    if (!p.answered) {
        p.detail = first ? first->message : "no reply";
        return p;
    }
    // The families' identification registers first: a model code or name says who is there.
    std::map<std::tuple<RegFunction, std::uint16_t, std::uint16_t>,
             std::optional<std::vector<std::uint16_t>>>
        read_cache;  // several profiles share an address (0x000B, 49): read each once
    for (const auto& prof : profiles) {
        for (const Signature& sig : prof.signature) {
            auto key = std::make_tuple(sig.function, sig.address, sig.count());
            auto it = read_cache.find(key);
            if (it == read_cache.end()) {
                std::vector<std::uint16_t> w(sig.count());
                Status st = link.read(unit, sig.function, sig.address, sig.count(), w.data(), now);
                it = read_cache.emplace(key, st ? std::optional(w) : std::nullopt).first;
            }
            if (it->second && sig.matches(*it->second)) {
                p.profile = std::string(prof.name);
                p.how = "signature: " + std::string(sig.what);
                return p;
            }
        }
    }
    // No identification register matched: a guess from plausible values.
    for (const auto& prof : profiles) {
        if (!prof.map.has_phase_to_neutral() || !prof.map.has_active_power()) continue;
        bool match = true;
        for (Reg r : {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n}) {
            std::optional<Error> e;
            const auto v = read_value(link, unit, *prof.map[r], now, e);
            if (!v || *v < 80 || *v > 300) {
                match = false;
                break;
            }
        }
        if (match) {
            std::optional<Error> e;
            const Reg power = prof.map.has(Reg::p_total) ? Reg::p_total : Reg::p_l1;
            match = read_value(link, unit, *prof.map[power], now, e).has_value();
        }
        if (match) {
            p.profile = std::string(prof.name);
            p.how = "guessed: its voltages read 80..300 V at this profile's addresses";
            break;
        }
    }
    return p;
}

}  // namespace gw
