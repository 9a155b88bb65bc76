// Names and comparisons of the shared records.
#include "gw/core/records.hpp"

namespace gw {

std::string_view quality_name(Quality q) {
    return q == Quality::gemeten ? "gemeten" : "onvolledig";
}
std::string_view role_name(Role r) {
    switch (r) {
        case Role::reader:
            return "reader";
        case Role::installer:
            return "installer";
        case Role::admin:
            break;
    }
    return "admin";
}

std::optional<Role> parse_role(std::string_view name) {
    for (Role r : {Role::reader, Role::installer, Role::admin})
        if (role_name(r) == name) return r;
    return std::nullopt;
}

bool IntervalRecord::same_values(const IntervalRecord& o) const {
    return meter_ean == o.meter_ean && end == o.end && interval_s == o.interval_s && p_w == o.p_w &&
           q_var == o.q_var && u1_v == o.u1_v && u2_v == o.u2_v && u3_v == o.u3_v &&
           quality == o.quality && samples == o.samples && coverage == o.coverage &&
           flags == o.flags;
}

}  // namespace gw
